-- action_response: per alert opened in the window, how fast the first action went out against the
-- seeds' 1-hour target, and the lost sales the actions avoided (issue 13, plan B-03).
-- grain: one row per alert opened in [$start, $end), by opening time.
-- params: start, end (the event window; its end is the "end of the event"), now,
--   target_minutes (60: the seeds' "the response starts within the hour").
-- needs: the relation `observed_episodes` (sku, warehouse_id, market, lost_units) registered by the
--   caller from the retro's stockout-episode estimate (queries/retro/stockout_episodes.sql with
--   tower.retro.scorecards.stockouts), so lost units observed have the one definition the retro uses.
-- returns: alert_id, rule, severity, title, entity_id, sku, scope (market or warehouse of the alert),
--   opened_at, first_action_at (the first time one of the alert's actions was sent to the vendor or
--   confirmed sent by hand: a transition to sent, acknowledged or done), minutes_to_first_action,
--   on_target (TRUE within the target, FALSE late or nothing sent once the target passed, NULL while
--   the target has not passed yet), actions (how many were proposed), units_per_hour and
--   hours_to_stockout (from the diagnosis of the alert's first sent action), projected_stockout_at
--   (that action's proposal time + hours_to_stockout), exposed_hours (from the projected stockout to
--   the end of the event, >= 0), expected_lost_units (units_per_hour × exposed_hours: what running dry
--   would have cost with no action), observed_lost_units (the stockout episodes' lost units for the
--   sku in the alert's scope), avoided_units (expected − observed, >= 0), unit_price,
--   avoided_sales (avoided_units × unit_price), counted (TRUE for the first acted-on alert of a sku:
--   the one whose avoided sales enter the total, so two alerts on one sku never count it twice)
with params as (
    select $start::timestamptz as window_start, $end::timestamptz as window_end,
           $now::timestamptz as as_of, $target_minutes::double as target_minutes
),

opened as (
    select a.alert_id, a.rule, a.severity, a.title, a.entity_id, a.opened_at, a.resolved_at,
           split_part(a.entity_id, '@', 1) as sku,
           nullif(split_part(a.entity_id, '@', 2), '') as scope
    from alerts a
    cross join params p
    where a.opened_at >= p.window_start and a.opened_at < p.window_end and a.opened_at <= p.as_of
),

-- when each action first went out: the vendor accepted it, or someone confirmed the manual fallback
went_out as (
    select x.action_id, x.alert_id, x.proposed_at, x.diagnosis,
           least(x.sent_at, min(t.happened_at)) as out_at
    from actions x
    left join action_transitions t
      on t.action_id = x.action_id and t.to_status in ('sent', 'acknowledged', 'done')
    where x.alert_id is not null
    group by x.action_id, x.alert_id, x.proposed_at, x.diagnosis, x.sent_at
),

per_alert as (
    select alert_id,
           count(*) as actions,
           min(out_at) as first_action_at,
           arg_min(diagnosis, out_at) filter (where out_at is not null) as diagnosis,
           arg_min(proposed_at, out_at) filter (where out_at is not null) as diagnosed_at
    from went_out
    group by alert_id
),

observed as (
    select sku, warehouse_id, market, sum(lost_units) as lost_units
    from observed_episodes
    group by all
),

timed as (
    select o.*, pa.first_action_at, coalesce(pa.actions, 0) as actions,
           epoch(pa.first_action_at - o.opened_at) / 60.0 as minutes_to_first_action,
           try_cast(json_extract_string(pa.diagnosis, '$.units_per_hour') as double) as units_per_hour,
           try_cast(json_extract_string(pa.diagnosis, '$.hours_to_stockout') as double) as hours_to_stockout,
           pa.diagnosed_at
    from opened o
    left join per_alert pa using (alert_id)
),

estimated as (
    select t.*,
           t.diagnosed_at + to_microseconds((t.hours_to_stockout * 3600e6)::bigint) as projected_stockout_at,
           (select coalesce(sum(ob.lost_units), 0) from observed ob
             where ob.sku = t.sku and (t.scope is null or ob.market = t.scope or ob.warehouse_id = t.scope))
               as observed_lost_units
    from timed t
),

final as (
    select
        e.alert_id, e.rule, e.severity, e.title, e.entity_id, e.sku, e.scope, e.opened_at,
        e.first_action_at, e.minutes_to_first_action,
        case
            when e.minutes_to_first_action is not null then e.minutes_to_first_action <= p.target_minutes
            when epoch(coalesce(e.resolved_at, p.as_of) - e.opened_at) / 60.0 > p.target_minutes then false
        end as on_target,
        e.actions, e.units_per_hour, e.hours_to_stockout, e.projected_stockout_at,
        greatest(epoch(p.window_end - e.projected_stockout_at) / 3600.0, 0) as exposed_hours,
        e.units_per_hour * greatest(epoch(p.window_end - e.projected_stockout_at) / 3600.0, 0)
            as expected_lost_units,
        e.observed_lost_units,
        greatest(e.units_per_hour * greatest(epoch(p.window_end - e.projected_stockout_at) / 3600.0, 0)
                 - e.observed_lost_units, 0) as avoided_units,
        k.unit_price::double as unit_price
    from estimated e
    cross join params p
    left join skus k on k.sku = e.sku
)

select
    f.*,
    f.avoided_units * coalesce(f.unit_price, 0) as avoided_sales,
    f.first_action_at is not null and f.units_per_hour is not null
        and row_number() over (partition by f.sku, (f.first_action_at is not null and f.units_per_hour is not null)
                               order by f.first_action_at, f.alert_id) = 1 as counted
from final f
order by f.opened_at, f.alert_id
