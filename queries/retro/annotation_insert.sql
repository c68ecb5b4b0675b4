-- annotation_insert: store one note. params: event_id (NULL allowed), happened_at, author, text, created_at.
-- Returns the new annotation_id.
insert into annotations (event_id, happened_at, author, text, created_at)
values ($event_id, $happened_at, $author, $text, $created_at)
returning annotation_id
