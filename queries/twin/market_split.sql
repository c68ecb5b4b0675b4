-- Twin market split: which share of a market's orders each warehouse fulfilled over the $hours
-- hours before $at; the twin spreads a market's forecast over its warehouses with it.
-- Grain: one row per market × warehouse. Columns: market, warehouse_id, share (0–1). Params: $at, $hours.
with counted as (
    select market, warehouse_id, count(*)::double as orders
    from orders
    where created_at <= $at
      and created_at > $at::timestamptz - to_hours($hours::bigint)
      and market is not null and warehouse_id is not null
    group by all
),

final as (
    select market, warehouse_id, orders / sum(orders) over (partition by market) as share
    from counted
)

select * from final order by market, warehouse_id
