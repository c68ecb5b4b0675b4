-- bench_forecast: store a refit's rows (the registered DataFrame or Arrow dataset `fit_rows`), as
-- tower.twin.forecast.refresh does, in the measuring process's own in-memory database.
create table stored as select * from fit_rows
