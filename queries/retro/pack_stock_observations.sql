-- pack_stock_observations: stock history of the window — observations in [$start, $end) plus, per
-- sku × warehouse, the last one before $start, so the stock at any moment of the window can be
-- rebuilt from the pack alone.
-- grain: one row per observation. returns: the columns of `stock_observations`
with before_start as (
    select *
    from stock_observations
    where observed_at < $start::timestamptz
    qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1
),

inside as (
    select *
    from stock_observations
    where observed_at >= $start::timestamptz
      and observed_at < $end::timestamptz
)

select * from before_start
union all
select * from inside
order by sku, warehouse_id, observed_at
