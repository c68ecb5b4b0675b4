-- Start times of every connector run (simulated clock), per source, for the soak's interval check.
select source, started_at
from sync_runs
where started_at >= $since
order by source, started_at
