-- Tower forecast: write the new fit from the registered Arrow dataset `fit_rows` (the fit's Parquet
-- file, read in batches), stamped with the fit's time.
insert into twin_forecasts (sku, market, hour, mean, lo80, hi80, lo95, hi95, model, fitted_at)
select sku, market, hour, mean, lo80, hi80, lo95, hi95, model, $fitted_at::timestamptz
from fit_rows
