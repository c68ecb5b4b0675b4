-- Tower forecast: drop the previous fit before the new one is written (same transaction). No params.
delete from twin_forecasts
