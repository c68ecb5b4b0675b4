-- Map: each warehouse's worst stock status, for its dot's colour (stock_health_at in
--   queries/kpi/_facts.sql, as of min(end, now); the statuses of queries/pages/stock_health.sql).
-- Grain: one row per warehouse holding stock. worst_status: red > yellow > over > green (running
--   short matters most, over-stock more than "fine"); skus_red / skus_yellow: how many of its SKUs
--   are red / yellow.
-- Params: end, now, market (the warehouse's); stock is shared by merchants.
with health as (
    select warehouse_id, status
    from stock_health_at(least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz), $market::text)
),

per_warehouse as (
    select
        warehouse_id,
        max(case status when 'red' then 4 when 'yellow' then 3 when 'over' then 2 when 'green' then 1 else 0 end)
            as worst_rank,
        count(*) filter (where status = 'red') as skus_red,
        count(*) filter (where status = 'yellow') as skus_yellow
    from health
    group by warehouse_id
)

select
    warehouse_id,
    case worst_rank when 4 then 'red' when 3 then 'yellow' when 2 then 'over' when 1 then 'green' end as worst_status,
    skus_red,
    skus_yellow
from per_warehouse
order by warehouse_id
