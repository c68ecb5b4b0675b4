-- Rule supplier_silent: a supplier with open purchase orders that has stopped reporting progress.
-- Grain: one row per supplier with at least one open PO (status open or in_production, ordered by
-- $now) whose newest po_progress report at or before $now (or, with none, its oldest open PO's
-- ordered_at) is at least max($yellow_hours, $yellow_intervals × its reporting interval) old; red at
-- max($red_hours, $red_intervals × its reporting interval).
-- A supplier is judged against its own pace, as source_stale judges a source: the reporting interval
-- is the median gap between its distinct report instants over the last $cadence_days days (reports
-- on any of its POs). Without that, a backup supplier that posts every 6 h (a few minutes late)
-- crossed a flat 6 h line before every report and the alert flapped open/closed four times a day.
-- metric = hours since the last report; threshold = hours (the crossed one).
-- Params: $now, $yellow_hours, $red_hours, $yellow_intervals, $red_intervals, $cadence_days.
with open_pos as (
    select po.po_id, po.supplier_id, po.ordered_at, po.quantity_ordered
    from purchase_orders as po
    where po.status in ('open', 'in_production')
      and po.ordered_at <= $now::timestamptz
),

reports as (
    select o.supplier_id, max(p.observed_at) as last_report_at
    from open_pos as o
    inner join po_progress as p using (po_id)
    where p.observed_at <= $now::timestamptz
    group by all
),

-- one row per instant the supplier posted (a post covers all its open POs at once)
posts as (
    select distinct po.supplier_id, p.observed_at
    from po_progress as p
    inner join purchase_orders as po using (po_id)
    where p.observed_at <= $now::timestamptz
      and p.observed_at > $now::timestamptz - to_seconds($cadence_days::double * 86400)
),

cadence as (
    select supplier_id, median(gap_h) as interval_h
    from (
        select
            supplier_id,
            epoch(observed_at - lag(observed_at) over (partition by supplier_id order by observed_at))
                / 3600 as gap_h
        from posts
    )
    where gap_h is not null
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

judged as (
    select
        s.*,
        epoch($now::timestamptz - s.last_news_at) / 3600 as silent_h,
        c.interval_h,
        greatest($yellow_hours::double, $yellow_intervals::double * coalesce(c.interval_h, 0)) as yellow_h,
        greatest($red_hours::double, $red_intervals::double * coalesce(c.interval_h, 0)) as red_h
    from silence as s
    left join cadence as c using (supplier_id)
),

final as (
    select
        case when j.silent_h >= j.red_h then 'red' else 'yellow' end as severity,
        'supplier' as entity_type,
        j.supplier_id as entity_id,
        'Supplier ' || coalesce(sp.name, j.supplier_id) || ' silent for '
            || floor(j.silent_h)::integer || ' h' as title,
        coalesce(sp.tier, '?') || ' supplier, ' || j.open_pos || ' open POs ('
            || j.units_ordered || ' units), last report '
            || strftime(j.last_news_at, '%Y-%m-%d %H:%M UTC')
            || coalesce(', usually every ' || round(j.interval_h, 1) || ' h', '') as detail,
        j.silent_h as metric,
        case when j.silent_h >= j.red_h then j.red_h else j.yellow_h end as threshold
    from judged as j
    left join suppliers as sp using (supplier_id)
    where j.silent_h >= j.yellow_h
)

select * from final
