-- Map: warehouses with their position, kind and market; the page colours them by the worst stock
-- status of their skus (from the stock grid). Grain: one row per warehouse with a coordinate
-- (lat/lon in degrees). Filter: $market (the market the warehouse serves).
-- Params: start, end, now, merchant, channel, market (NULL = all; only market applies here).
with params as (
    -- every shared input once: ctx.query always binds the full set
    select
        $start::timestamptz as window_start,
        $end::timestamptz   as window_end,
        $now::timestamptz   as as_of,
        $merchant::text     as merchant,
        $channel::text      as channel,
        $market::text       as market
),

final as (
    select w.warehouse_id, w.name, w.kind, w.market, w.country, w.city, w.lat, w.lon
    from warehouses as w
    cross join params as p
    where w.lat is not null and w.lon is not null
      and (p.market is null or w.market = p.market)
)

select * from final
order by warehouse_id
