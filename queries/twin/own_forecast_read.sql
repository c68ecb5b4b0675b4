-- Tower forecast: the stored forecast, optionally for one SKU and/or market, from $from on.
-- Columns: sku, market, hour, mean, lo80, hi80, lo95, hi95, model, fitted_at.
-- Params: $sku, $market, $from (NULL = all).
select sku, market, hour, mean, lo80, hi80, lo95, hi95, model, fitted_at
from twin_forecasts
where ($sku::text is null or sku = $sku::text)
  and ($market::text is null or market = $market::text)
  and ($from::timestamptz is null or hour >= $from::timestamptz)
order by sku, market, hour
