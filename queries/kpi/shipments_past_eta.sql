-- name: shipments_past_eta
-- label: Shipments past ETA
-- label_zh: 超过预计到达时间的货件
-- definition: Shipments (inbound and outbound) still not delivered whose latest ETA is already
--   behind us: the transit-delay count.
-- definition_zh: 尚未送达且最新预计到达时间已过的货件数（入库和出库），即运输延误数。
-- unit: count
-- grain: one row: the state as of min(end, now); shipments in transit at that moment
-- better: lower
-- format: {:,.0f}
-- params: start (unused: a state), end, now, merchant, channel, market, warehouse, carrier (NULL = all;
--   merchant and channel keep only outbound shipments of matching orders)
-- returns: value (shipments, NULL when nothing is in transit), n (shipments in transit)
-- caveat: eta is the latest estimate known (the shipments table keeps only the newest)
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
        case when count(*) > 0 then count(*) filter (where eta < as_of) end as value,
        count(*) as n
    from in_transit
)

select * from final
