-- current_event: the promotion the war room is about — the one running at $now, else the most
-- recent one that has started (for the retro), as one row: event_id, name, starts_at, ends_at
-- (TIMESTAMPTZ, UTC). No row when no promotion has started yet. Grain: one promotion event.
with started as (
    select event_id, name, starts_at, ends_at
    from events
    where kind = 'promotion'
      and starts_at <= $now
),

final as (
    select *
    from started
    -- running events first, then the latest start
    order by (ends_at is null or ends_at > $now) desc, starts_at desc
    limit 1
)

select * from final
