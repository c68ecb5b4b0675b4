-- roi_inputs: defaults for the resilience ROI, from the data: what the backup tiers supplied for
-- the event and what a unit earns. All editable on the page.
-- grain: one row. params: start, end, now, lookback_days (how long before the event backup POs count),
--   market (destination warehouse's / order market; NULL = all)
-- returns: backup_units / primary_units (units on backup and emergency / primary POs ordered from
--   lookback_days before the event start to its end so far, not cancelled), backup_unit_cost and primary_unit_cost (average unit cost
--   per PO unit of those tiers vs the primary tier's POs, NULL without POs), unit_price and unit_cost
--   (unit-weighted averages over the units sold in the event; list price/cost, else catalogue mean),
--   units_sold and orders (in the event so far, not cancelled)
with event_pos as (
    select s.tier, po.quantity_ordered, po.unit_cost
    from purchase_orders po
    join suppliers s using (supplier_id)
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where po.ordered_at >= $start::timestamptz - to_microseconds(($lookback_days::double * 86400e6)::bigint)
      and po.ordered_at < least($end::timestamptz, $now::timestamptz)
      and coalesce(po.status, '') <> 'cancelled'
      and ($market::text is null or w.market = $market::text)
),

tiers as (
    select
        coalesce(sum(quantity_ordered) filter (where tier in ('backup', 'emergency')), 0) as backup_units,
        coalesce(sum(quantity_ordered) filter (where tier = 'primary'), 0) as primary_units,
        sum(quantity_ordered * unit_cost) filter (where tier in ('backup', 'emergency'))
            / nullif(sum(quantity_ordered) filter (where tier in ('backup', 'emergency')), 0) as backup_unit_cost,
        sum(quantity_ordered * unit_cost) filter (where tier = 'primary')
            / nullif(sum(quantity_ordered) filter (where tier = 'primary'), 0) as primary_unit_cost
    from event_pos
),

sold as (
    select
        coalesce(sum(l.quantity), 0) as units_sold,
        count(distinct o.order_id) as orders,
        sum(l.quantity * coalesce(k.unit_price, l.price)) / nullif(sum(l.quantity), 0) as unit_price,
        sum(l.quantity * k.unit_cost) / nullif(sum(l.quantity) filter (where k.unit_cost is not null), 0) as unit_cost
    -- orders_in_window: queries/schema/009_shared_query_macros.sql
    from orders_in_window($start::timestamptz, least($end::timestamptz, $now::timestamptz),
                          null, null, $market::text) o
    join order_lines l using (order_id)
    left join skus k using (sku)
    where o.cancelled_at is null
),

catalogue as (
    select avg(unit_price) as unit_price, avg(unit_cost) as unit_cost from skus
),

final as (
    select
        t.backup_units::double  as backup_units,
        t.primary_units::double as primary_units,
        s.units_sold::double    as units_sold,
        s.orders,
        t.backup_unit_cost::double  as backup_unit_cost,
        t.primary_unit_cost::double as primary_unit_cost,
        coalesce(s.unit_price, c.unit_price)::double as unit_price,
        coalesce(s.unit_cost, c.unit_cost)::double   as unit_cost
    from tiers t, sold s, catalogue c
)

select * from final
