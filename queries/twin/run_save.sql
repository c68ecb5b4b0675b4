-- Store one twin comparison's summary. Params: $run_id, $scenario, $body, $runs, $seed, $network_at, $by, $at.
insert into twin_runs (run_id, scenario, body, runs, seed, network_at, created_by, created_at)
values ($run_id, $scenario, $body, $runs, $seed, $network_at, $by, $at)
