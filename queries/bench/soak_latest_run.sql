-- The latest connector run start (simulated clock): the end of the soak on the data's clock.
select max(started_at) from sync_runs
