-- Tower forecast: write the new fit from the registered frame `fit_rows` (same columns as the table).
insert into twin_forecasts (sku, market, hour, mean, lo80, hi80, lo95, hi95, model, fitted_at)
select sku, market, hour, mean, lo80, hi80, lo95, hi95, model, fitted_at
from fit_rows
