-- The data's own "now": when the newest sync run finished, by the clock the connectors ran on. A
-- simulated world runs ahead of the wall clock, so a reader outside the app (the CLI) takes the
-- later of this and the wall clock as "now".
-- Returns: one row, synced_until (NULL before the first run).
select max(finished_at) as synced_until from sync_runs
