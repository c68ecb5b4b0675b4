-- 003_retro: what the retro adds to the data model.
-- annotations: notes people add to a retro ("switched 30% to the backup at 14:10"), shown as markers
--   on every time chart of the retro page and exported in the data pack. One row per note.

create sequence if not exists annotation_id_seq;

create table if not exists annotations (
    annotation_id  bigint primary key default nextval('annotation_id_seq'),  -- note number (increasing)
    event_id       text,                     -- the event the note belongs to (NULL = not tied to one)
    happened_at    timestamptz,              -- the moment the note is about (UTC)
    author         text,                     -- who wrote it (free text, as typed)
    text           text,                     -- the note itself
    created_at     timestamptz               -- clock time when it was written
);
