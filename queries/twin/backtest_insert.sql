-- Twin backtest: write one run's metrics from the registered frame `backtest_rows`.
insert into twin_backtests (run_id, ran_at, scenario, start_at, horizon_h, metric, observed, p10, p50, p90,
                            inside, error, runs)
select run_id, ran_at, scenario, start_at, horizon_h, metric, observed, p10, p50, p90, inside, error, runs
from backtest_rows
