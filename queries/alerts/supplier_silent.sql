-- Rule supplier_silent: a supplier with open purchase orders that has stopped reporting progress.
-- Grain: one row per supplier with at least one open PO (status open or in_production, ordered by
-- $now) whose newest po_progress report at or before $now (or, with none, its oldest open PO's
-- ordered_at) is at least $yellow_hours old; red at $red_hours.
-- metric = hours since the last report; threshold = hours (the crossed one).
-- Params: $now, $yellow_hours, $red_hours.
with params as (
    select $now::timestamptz as now, $yellow_hours::double as yellow_h, $red_hours::double as red_h
),

open_pos as (
    select po.po_id, po.supplier_id, po.ordered_at, po.quantity_ordered
    from purchase_orders as po
    cross join params
    where po.status in ('open', 'in_production')
      and po.ordered_at <= params.now
),

reports as (
    select o.supplier_id, max(p.observed_at) as last_report_at
    from open_pos as o
    inner join po_progress as p using (po_id)
    cross join params
    where p.observed_at <= params.now
    group by all
),

silence as (
    select
        o.supplier_id,
        count(*) as open_pos,
        sum(o.quantity_ordered) as units_ordered,
        coalesce(max(r.last_report_at), min(o.ordered_at)) as last_news_at
    from open_pos as o
    left join reports as r using (supplier_id)
    group by all
),

final as (
    select
        case when epoch(params.now - s.last_news_at) / 3600 >= params.red_h then 'red' else 'yellow' end
            as severity,
        'supplier' as entity_type,
        s.supplier_id as entity_id,
        'Supplier ' || coalesce(sp.name, s.supplier_id) || ' silent for '
            || round(epoch(params.now - s.last_news_at) / 3600) || ' h' as title,
        coalesce(sp.tier, '?') || ' supplier, ' || s.open_pos || ' open POs ('
            || s.units_ordered || ' units), last report '
            || strftime(s.last_news_at, '%Y-%m-%d %H:%M UTC') as detail,
        epoch(params.now - s.last_news_at) / 3600 as metric,
        case when epoch(params.now - s.last_news_at) / 3600 >= params.red_h then params.red_h
             else params.yellow_h end as threshold
    from silence as s
    left join suppliers as sp using (supplier_id)
    cross join params
    where epoch(params.now - s.last_news_at) / 3600 >= params.yellow_h
)

select * from final
