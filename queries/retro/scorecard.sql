-- scorecard: per link of the chain — each supplier, carrier, warehouse and market — how it did in
-- the window: on-time share, delays and exceptions (stockout hours are added by tower.retro from
-- retro/stockout_episodes, which owns that definition).
-- Shipment links (carrier, warehouse = inbound destination or outbound origin, market = order
--   market, else the warehouse's, else destination): n = shipments delivered in the window with a
--   promised date; on_time_pct = delivered by that promise; delays = delivered late in the window
--   plus still on the way at the window end with the ETA behind; exceptions = shipments with an
--   Exception checkpoint in the window.
-- Supplier links: n = POs whose promised ship day ended in the window; on_time_pct = fully shipped
--   (by the supplier's reports) before that day ended; delays = of those, shipped late or not yet;
--   exceptions = its inbound shipments with an Exception checkpoint in the window.
-- grain: one row per link with any activity in [$start, min($end, $now)).
-- params: start, end, now, market (NULL = all; for suppliers: the destination warehouse's)
-- returns: link_type (supplier | carrier | warehouse | market), link_id, name, n, on_time_pct
--   (percent 0–100, NULL when n = 0), delays, exceptions
with params as (
    select
        $start::timestamptz                          as window_start,
        least($end::timestamptz, $now::timestamptz) as as_of,
        $market::text                                as market
),

shipment_facts as (
    select
        s.shipment_id, s.carrier, s.warehouse_id, s.po_id,
        coalesce(o.market, w.market, s.destination_country) as market,
        s.delivered_at >= p.window_start and s.delivered_at < p.as_of
            and s.promised_delivery_at is not null                    as delivered_judged,
        s.delivered_at <= s.promised_delivery_at                       as on_time,
        coalesce(s.created_at, s.shipped_at) < p.as_of
            and (s.delivered_at is null or s.delivered_at >= p.as_of)
            and s.eta < p.as_of                                        as open_past_eta,
        exists (
            select 1 from tracking_events e
            where e.shipment_id = s.shipment_id
              and e.tag = 'Exception'
              and e.checkpoint_time >= p.window_start
              and e.checkpoint_time < p.as_of
        )                                                              as had_exception
    from shipments s
    cross join params p
    left join orders o on o.order_id = s.order_id
    left join warehouses w on w.warehouse_id = s.warehouse_id
),

shipment_links as (
    select 'carrier' as link_type, carrier as link_id, * from shipment_facts
    union all by name
    select 'warehouse' as link_type, warehouse_id as link_id, * from shipment_facts
    union all by name
    select 'market' as link_type, market as link_id, * from shipment_facts
),

shipment_scores as (
    select
        sl.link_type,
        coalesce(sl.link_id, '(unknown)') as link_id,
        count(*) filter (where delivered_judged) as n,
        100.0 * count(*) filter (where delivered_judged and on_time)
            / nullif(count(*) filter (where delivered_judged), 0) as on_time_pct,
        count(*) filter (where (delivered_judged and not on_time) or open_past_eta) as delays,
        count(*) filter (where had_exception) as exceptions
    from shipment_links sl
    cross join params p
    where p.market is null or sl.market = p.market
    group by sl.link_type, coalesce(sl.link_id, '(unknown)')
),

po_shipped as (
    -- when each PO was first reported fully shipped
    select po_id, min(observed_at) as shipped_at
    from po_progress pp
    join purchase_orders po using (po_id)
    where pp.quantity_shipped >= po.quantity_ordered
    group by po_id
),

po_facts as (
    select
        po.supplier_id,
        po.po_id,
        -- the promised day is over at its end (dates arrive as midnight UTC)
        po.promised_ship_date + interval 1 day as due_at,
        ps.shipped_at
    from purchase_orders po
    cross join params p
    left join po_shipped ps on ps.po_id = po.po_id and ps.shipped_at < p.as_of
    left join warehouses w on w.warehouse_id = po.warehouse_id
    where coalesce(po.status, '') <> 'cancelled'
      and (p.market is null or w.market = p.market)
),

supplier_scores as (
    select
        f.supplier_id as link_id,
        count(*) as n,
        100.0 * count(*) filter (where f.shipped_at <= f.due_at) / nullif(count(*), 0) as on_time_pct,
        count(*) filter (where f.shipped_at is null or f.shipped_at > f.due_at) as delays
    from po_facts f
    cross join params p
    where f.due_at >= p.window_start and f.due_at < p.as_of
    group by f.supplier_id
),

supplier_exceptions as (
    select po.supplier_id as link_id, count(*) filter (where sf.had_exception) as exceptions
    from shipment_facts sf
    join purchase_orders po using (po_id)
    cross join params p
    where p.market is null or sf.market = p.market
    group by po.supplier_id
),

suppliers_all as (
    select
        'supplier' as link_type,
        link_id,
        coalesce(sc.n, 0) as n,
        sc.on_time_pct,
        coalesce(sc.delays, 0) as delays,
        coalesce(se.exceptions, 0) as exceptions
    from supplier_scores sc
    full join supplier_exceptions se using (link_id)
),

final as (
    select l.link_type, l.link_id,
        coalesce(sup.name, wh.name, l.link_id) as name,
        l.n, l.on_time_pct, l.delays, l.exceptions
    from (
        select * from shipment_scores
        union all by name
        select * from suppliers_all
    ) l
    left join suppliers sup on l.link_type = 'supplier' and sup.supplier_id = l.link_id
    left join warehouses wh on l.link_type = 'warehouse' and wh.warehouse_id = l.link_id
    where l.n > 0 or l.delays > 0 or l.exceptions > 0
)

select * from final
order by link_type, delays desc, link_id
