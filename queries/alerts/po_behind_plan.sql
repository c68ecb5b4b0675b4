-- Rule po_behind_plan: purchase orders whose production lags the plan.
-- Grain: one row per open PO (status open or in_production, ordered by $now) where produced % of
-- ordered (latest progress report at or before $now) trails the expected % — time elapsed from
-- ordered_at to promised_ship_date, capped at 100 — by at least $yellow_points percentage points;
-- red at $red_points. metric = points behind; threshold = points (the crossed one).
-- Params: $now, $yellow_points, $red_points.
with params as (
    select $now::timestamptz as now, $yellow_points::double as yellow_pts, $red_points::double as red_pts
),

progress as (
    select p.po_id, p.quantity_produced, p.observed_at
    from po_progress as p
    cross join params
    where p.observed_at <= params.now
    qualify row_number() over (partition by p.po_id order by p.observed_at desc) = 1
),

planned as (
    select
        po.po_id,
        po.supplier_id,
        po.sku,
        po.quantity_ordered,
        po.promised_ship_date,
        coalesce(pr.quantity_produced, 0) as produced,
        100.0 * coalesce(pr.quantity_produced, 0) / nullif(po.quantity_ordered, 0) as produced_pct,
        100.0 * least(1, greatest(0,
            epoch(params.now - po.ordered_at)
            / nullif(epoch(po.promised_ship_date - po.ordered_at), 0)
        )) as expected_pct
    from purchase_orders as po
    left join progress as pr using (po_id)
    cross join params
    where po.status in ('open', 'in_production')
      and po.ordered_at <= params.now
      and po.quantity_ordered > 0
),

final as (
    select
        case when p.expected_pct - p.produced_pct >= params.red_pts then 'red' else 'yellow' end
            as severity,
        'po' as entity_type,
        p.po_id as entity_id,
        'PO ' || p.po_id || ' (' || p.supplier_id || ') ' || floor(p.expected_pct - p.produced_pct)::integer
            || ' pts behind plan' as title,
        p.sku || ': produced ' || p.produced || '/' || p.quantity_ordered || ' ('
            || round(p.produced_pct) || ' %) vs ' || round(p.expected_pct) || ' % expected; ships by '
            || strftime(p.promised_ship_date, '%Y-%m-%d') as detail,
        p.expected_pct - p.produced_pct as metric,
        case when p.expected_pct - p.produced_pct >= params.red_pts then params.red_pts
             else params.yellow_pts end as threshold
    from planned as p
    cross join params
    where p.expected_pct - p.produced_pct >= params.yellow_pts
)

select * from final
