-- state_put: stores the cursor of one (source, resource); committed with the run's data.
-- Returns nothing.
insert into sync_state (source, resource, cursor, updated_at)
values ($source, $resource, $cursor, $updated_at)
on conflict (source, resource) do update
set cursor = excluded.cursor,
    updated_at = excluded.updated_at
