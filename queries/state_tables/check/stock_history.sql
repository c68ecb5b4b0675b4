-- Test check: the raw definition — newest stock observation per pair before $at, from history alone.
select sku, warehouse_id, observed_at, available
from stock_observations
where observed_at < $at::timestamptz
qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1
order by all;
