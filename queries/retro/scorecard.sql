-- scorecard: per link of the chain — each supplier, carrier, warehouse and market — how it did in
-- the window: on-time share, delays and exceptions (stockout hours are added by tower.retro from
-- retro/stockout_episodes, which owns that definition).
-- Shipment links (carrier, warehouse = fulfilling warehouse, market = order market): n and
--   on_time_pct are the on_time_rate KPI broken down by that dimension (queries/kpi/on_time_rate.sql:
--   orders delivered in the window with a promise, delivered by it); delays = those delivered late
--   plus shipments still on the way at the window end with the ETA behind; exceptions = shipments
--   with an Exception checkpoint in the window.
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

on_time as (
    -- the on_time_rate KPI per link: the same number the Customers page breaks down
    select 'carrier' as link_type, k.dimension_value as link_id, k.n, k.value as on_time_pct
    from params p, kpi_on_time_rate(p.window_start, p.as_of, market_filter := p.market, dimension := 'carrier') k
    union all
    select 'warehouse', k.dimension_value, k.n, k.value
    from params p, kpi_on_time_rate(p.window_start, p.as_of, market_filter := p.market, dimension := 'warehouse') k
    union all
    select 'market', k.dimension_value, k.n, k.value
    from params p, kpi_on_time_rate(p.window_start, p.as_of, market_filter := p.market, dimension := 'market') k
),

shipment_links as (
    select 'carrier' as link_type, carrier as link_id, * from shipment_facts
    union all by name
    select 'warehouse' as link_type, warehouse_id as link_id, * from shipment_facts
    union all by name
    select 'market' as link_type, market as link_id, * from shipment_facts
),

shipment_events as (
    select
        sl.link_type,
        coalesce(sl.link_id, '(unknown)') as link_id,
        count(*) filter (where open_past_eta) as open_late,
        count(*) filter (where had_exception) as exceptions
    from shipment_links sl
    cross join params p
    where p.market is null or sl.market = p.market
    group by sl.link_type, coalesce(sl.link_id, '(unknown)')
),

shipment_scores as (
    select
        link_type,
        link_id,
        coalesce(t.n, 0) as n,
        t.on_time_pct,
        (coalesce(round(t.n * (100 - t.on_time_pct) / 100), 0) + coalesce(e.open_late, 0))::bigint as delays,
        coalesce(e.exceptions, 0) as exceptions
    from on_time t
    full join shipment_events e using (link_type, link_id)
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
