-- replay_stock: stock per sku × warehouse as the board showed it at $at — the newest stock
-- observation at or before $at (nothing observed later leaks in).
-- grain: one row per sku × warehouse observed by $at. params: at, market (the warehouse's; NULL = all)
-- returns: sku, sku_name, warehouse_id, warehouse_name, market, available (units), observed_at,
--   warning_qty, limit_qty, status (out | below_limit | below_warning | ok)
with params as (
    select $at::timestamptz as at, $market::text as market
),

latest as (
    select s.sku, s.warehouse_id, s.available, s.observed_at
    from stock_observations s
    cross join params p
    where s.observed_at <= p.at
    qualify row_number() over (partition by s.sku, s.warehouse_id order by s.observed_at desc) = 1
),

final as (
    select
        l.sku,
        k.name as sku_name,
        l.warehouse_id,
        w.name as warehouse_name,
        w.market,
        l.available,
        l.observed_at,
        sp.warning_qty,
        sp.limit_qty,
        case
            when l.available <= 0 then 'out'
            when l.available < sp.limit_qty then 'below_limit'
            when l.available < sp.warning_qty then 'below_warning'
            else 'ok'
        end as status
    from latest l
    cross join params p
    left join skus k using (sku)
    left join warehouses w using (warehouse_id)
    left join stock_policies sp using (sku, warehouse_id)
    where p.market is null or w.market = p.market
)

select * from final
order by available, sku, warehouse_id
