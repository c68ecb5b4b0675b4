-- name: stale_trackings
-- label: Stale trackings
-- label_zh: 长时间无更新的追踪
-- definition: Shipments not delivered with no new tracking checkpoint for 24 hours (counted
--   from creation when there is none yet).
-- definition_zh: 尚未送达且 24 小时内没有新轨迹的货件数（尚无轨迹时从创建时间算起）。
-- unit: count
-- grain: one row: the state as of min(end, now); shipments in transit at that moment
-- better: lower
-- format: {:,.0f}
-- params: start (unused: a state), end, now, merchant, channel, market, warehouse, carrier (NULL = all;
--   merchant and channel keep only outbound shipments of matching orders)
-- returns: value (shipments, NULL when nothing is in transit), n (shipments in transit)
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- declared for the shared contract: a state, not a window
        $merchant::text  as merchant,
        $channel::text   as channel,
        $market::text    as market,
        $warehouse::text as warehouse,
        $carrier::text   as carrier
),

-- shipments in flight as of as_of, tag replayed from tracking (queries/schema/004_shared_macros.sql)
in_transit as (
    select s.*
    -- the bound values go straight in, so DuckDB folds them to constants
    from shipment_state_at(
        least($end::timestamptz, $now::timestamptz),
        $merchant::text, $channel::text, $market::text, $warehouse::text, $carrier::text
    ) s
    where s.tag_as_of not in ('Delivered', 'Expired')
),

final as (
    select
        case when count(*) > 0 then count(*) filter (where last_activity_at < as_of - interval 24 hour) end as value,
        count(*) as n
    from in_transit
)

select * from final
