-- name: exceptions
-- label: Shipments in exception
-- label_zh: 异常货件
-- definition: Shipments not delivered whose latest checkpoint before the moment is tagged
--   Exception (customs, damage, address, lost, returning …).
-- definition_zh: 尚未送达、且该时刻之前最新一条轨迹标记为异常（清关、破损、地址、丢失、退回等）的货件数。
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
        case when count(*) > 0 then count(*) filter (where tag_as_of = 'Exception') end as value,
        count(*) as n
    from in_transit
)

select * from final
