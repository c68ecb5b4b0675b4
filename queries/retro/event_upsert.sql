-- event_upsert: create or rename an event window (UI-created events, source = 'ui').
-- params: event_id, name, starts_at, ends_at, kind, source, updated_at. Returns nothing.
insert into events (event_id, name, starts_at, ends_at, kind, source, updated_at)
values ($event_id, $name, $starts_at, $ends_at, $kind, $source, $updated_at)
on conflict (event_id) do update set
    name = excluded.name,
    starts_at = excluded.starts_at,
    ends_at = excluded.ends_at,
    kind = excluded.kind,
    source = excluded.source,
    updated_at = excluded.updated_at
