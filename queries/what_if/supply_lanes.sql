-- What-if page map: the supply lanes, supplier → destination warehouse, that purchase orders use.
-- Grain: one row per (supplier, warehouse) with both ends placed (lat/lon in degrees, WGS 84);
-- pos = purchase orders on the lane (any status), units = units ordered on them.
-- Params: none (the whole network: a disruption touches every market's supply).
with lanes as (
    select supplier_id, warehouse_id, count(*) as pos, sum(quantity_ordered) as units
    from purchase_orders
    where supplier_id is not null and warehouse_id is not null
    group by supplier_id, warehouse_id
),

final as (
    select l.supplier_id, l.warehouse_id, l.pos, l.units,
           coalesce(s.name, s.supplier_id) as supplier_name, coalesce(w.name, w.warehouse_id) as warehouse_name,
           s.lat as origin_lat, s.lon as origin_lon, w.lat as dest_lat, w.lon as dest_lon
    from lanes as l
    inner join suppliers as s using (supplier_id)
    inner join warehouses as w using (warehouse_id)
    where s.lat is not null and s.lon is not null and w.lat is not null and w.lon is not null
)

select * from final
order by supplier_id, warehouse_id
