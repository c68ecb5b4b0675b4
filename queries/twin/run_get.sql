-- One stored twin comparison by id. Params: $run_id. Columns: run_id, scenario, body (JSON), runs,
-- seed, network_at, created_by, created_at.
select run_id, scenario, body::varchar as body, runs, seed, network_at, created_by, created_at
from twin_runs where run_id = $run_id
