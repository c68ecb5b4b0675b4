-- event_by_id: the promotion chosen in the filters (?window=event&event=<id>), as one row:
-- event_id, name, starts_at, ends_at (TIMESTAMPTZ, UTC). No row when the id is unknown.
-- Grain: one promotion event. params: event_id
with final as (
    select event_id, name, starts_at, ends_at
    from events
    where kind = 'promotion'
      and event_id = $event_id
)

select * from final
