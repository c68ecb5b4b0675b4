-- state_get: the incremental cursors of one source.
-- Returns one row per resource: resource (text), cursor (text, usually an ISO-8601 UTC timestamp).
select resource, cursor
from sync_state
where source = $source
