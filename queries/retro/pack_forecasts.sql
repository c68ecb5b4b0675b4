-- pack_forecasts: the plan for the window — forecast hours starting in [$start, $end), filtered by
-- market (NULL = all), to set against the pack's orders.
-- grain: one row per sku × market × hour. returns: the columns of `forecasts`
select f.*
from forecasts f
where f.period_start >= $start::timestamptz
  and f.period_start < $end::timestamptz
  and ($market::text is null or f.market = $market::text)
order by f.period_start, f.sku, f.market
