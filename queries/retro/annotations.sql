-- annotations: notes for a retro — those tied to $event_id plus untied ones whose moment falls in
-- [$start, $end).
-- grain: one row per note, oldest first. returns: annotation_id, event_id, happened_at, author, text,
--   created_at (TIMESTAMPTZ UTC)
with params as (
    select $event_id::text as event_id, $start::timestamptz as window_start, $end::timestamptz as window_end
),

final as (
    select a.annotation_id, a.event_id, a.happened_at, a.author, a.text, a.created_at
    from annotations a
    cross join params p
    where a.event_id = p.event_id
       or (a.event_id is null and a.happened_at >= p.window_start and a.happened_at < p.window_end)
)

select * from final
order by happened_at, annotation_id
