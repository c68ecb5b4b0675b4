-- disruptions: events of kind 'disruption' (supplier outage, port congestion …) overlapping
-- [$start, $end).
-- grain: one row per disruption, by start. returns: event_id, name, starts_at, ends_at (TIMESTAMPTZ
--   UTC; ends_at NULL = still going), source
with final as (
    select event_id, name, starts_at, ends_at, source
    from events
    where kind = 'disruption'
      and starts_at < $end::timestamptz
      and (ends_at is null or ends_at > $start::timestamptz)
)

select * from final
order by starts_at, event_id
