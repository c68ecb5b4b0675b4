-- Map: warehouses with their position, kind and market; the page colours them by the worst stock
-- status of their skus (from the stock grid). Grain: one row per warehouse with a coordinate
-- (lat/lon in degrees). Filter: $market (the market the warehouse serves).
-- Params: market (NULL = all; the window, now and the other filters do not apply).
with final as (
    select w.warehouse_id, w.name, w.kind, w.market, w.country, w.city, w.lat, w.lon
    from warehouses as w
    where w.lat is not null and w.lon is not null
      and ($market::text is null or w.market = $market::text)
)

select * from final
order by warehouse_id
