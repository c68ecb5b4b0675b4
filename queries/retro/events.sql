-- events: every promotion and disruption window stored in `events` (planning source, UI, config
-- copies), newest start first.
-- grain: one row per event. returns: event_id, name, starts_at, ends_at (TIMESTAMPTZ UTC; ends_at
--   NULL = open), kind (promotion | disruption), source (planning | ui | config)
with final as (
    select event_id, name, starts_at, ends_at, kind, source
    from events
    where starts_at is not null
)

select * from final
order by starts_at desc, event_id
