-- Actions: when each source last synced successfully, as of $now (a plan on older data is stale).
-- Grain: one row per source with a successful run. Columns: source, last_ok_at.
-- Params: $now.
select source, max(coalesce(finished_at, started_at)) as last_ok_at
from sync_runs
where status in ('ok', 'partial') and started_at <= $now::timestamptz
group by source
