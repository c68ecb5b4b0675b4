-- Rule vessel_eta_past_stockout: an inbound container whose vessel now arrives too late — its latest
-- announced arrival (eta_known_at, queries/schema/013_ocean_events.sql) plus $margin_hours of port
-- handling, customs and trucking lands after the destination warehouse runs out of the SKU the
-- container carries.
-- Grain: one row per container (equipment reference) at its port of discharge whose vessel has not
-- arrived as of $now (no ACT arrival known then). The container's SKU and warehouse come from its
-- purchase order (the PO reference on its DCSA events, else the inbound shipment with the same
-- tracking number). The projected stockout is $now + the pair's days of supply in stock_health_at
-- (queries/kpi/_facts.sql: available ÷ the 7-day selling rate), else its hours_to_stockout (the
-- 4-hour pace): a weeks-long voyage is judged against the week's rate, not the last 4 hours.
-- Only a container nothing else beats to the warehouse is judged: when stock_health_at's
-- next_inbound_eta (the earliest inbound delivery ETA for the pair) comes before the vessel berths,
-- that shipment restocks first.
-- Fires when arrival + margin > stockout; red once $red_hours_short hours short. Clears when a new
-- estimate pulls the arrival back in, the stock recovers, or the vessel arrives.
-- metric = hours short (arrival + margin − stockout); threshold = hours (0, or the red one).
-- Params: $now, $margin_hours, $red_hours_short.
with params as (
    select $now::timestamptz as now, $margin_hours::double as margin_h, $red_hours_short::double as red_h
),

containers as (
    select
        e.equipment_reference,
        e.un_location_code,
        e.vessel_name,
        e.eta,
        e.slip_hours,
        coalesce(e.po_reference, s.po_id) as po_id
    from eta_known_at($now::timestamptz) as e
    left join shipments as s on s.tracking_number = e.equipment_reference and s.direction = 'inbound'
    where not e.arrived
    qualify row_number() over (partition by e.equipment_reference order by e.eta desc) = 1
),

judged as (
    select
        c.*,
        po.sku,
        po.warehouse_id,
        h.available,
        coalesce(h.days_of_supply * 24, h.hours_to_stockout) as hours_left,
        params.now + to_seconds(coalesce(h.days_of_supply * 24, h.hours_to_stockout) * 3600) as stockout_at,
        epoch(c.eta + to_seconds(params.margin_h * 3600)
              - (params.now + to_seconds(coalesce(h.days_of_supply * 24, h.hours_to_stockout) * 3600)))
            / 3600 as hours_short
    from containers as c
    inner join purchase_orders as po using (po_id)
    inner join stock_health_at($now::timestamptz, null) as h
        on h.sku = po.sku and h.warehouse_id = po.warehouse_id
    cross join params
    where coalesce(h.days_of_supply * 24, h.hours_to_stockout) is not null
      -- stock that reaches the warehouse before this vessel even berths (an earlier container, an
      -- air or truck shipment) restocks first: judging a later container against today's stock
      -- would cry wolf for every container queued behind it
      and (h.next_inbound_eta is null or h.next_inbound_eta >= c.eta)
),

final as (
    select
        case when j.hours_short >= params.red_h then 'red' else 'yellow' end as severity,
        'container' as entity_type,
        j.equipment_reference as entity_id,
        'Vessel ETA past stockout: ' || j.equipment_reference || ' (' || coalesce(j.vessel_name, '?') || ') for '
            || j.sku || ' at ' || j.warehouse_id as title,
        'arrives ' || j.un_location_code || ' ' || strftime(j.eta, '%Y-%m-%d %H:%M UTC') || ', slipped '
            || round(coalesce(j.slip_hours, 0))::integer || ' h; stock runs out '
            || strftime(j.stockout_at, '%Y-%m-%d %H:%M UTC') || ' (' || j.available || ' available), '
            || floor(j.hours_short)::integer || ' h short with ' || round(params.margin_h)::integer || ' h handling' as detail,
        j.hours_short as metric,
        case when j.hours_short >= params.red_h then params.red_h else 0 end as threshold
    from judged as j
    cross join params
    where j.hours_short > 0
)

select * from final
