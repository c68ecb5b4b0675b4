-- Tower forecast: the last refresh that ran. Columns: as twin_forecast_fits. No params.
select *
from twin_forecast_fits
order by fitted_at desc
limit 1
