-- Twin forecast: planned units per SKU × market × hour from $from up to $until (the forecasts table).
-- Grain: one row per SKU × market × hour with a forecast. Columns: sku, market, period_start, units.
-- Params: $from, $until.
select sku, market, period_start, units
from forecasts
where period_start >= $from and period_start < $until
order by sku, market, period_start
