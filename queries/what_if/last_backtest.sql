-- What-if page: the twin's last backtest against the sandbox world (twin_backtests, written by the
-- calibration), one row per metric of the newest run (by ran_at).
-- Grain: one row per metric. Columns: run_id, ran_at, scenario, horizon_h, metric, observed, p10,
-- p50, p90, inside (observed within [p10, p90]), error (p50 − observed), runs. Params: none.
with latest as (
    select run_id
    from twin_backtests
    order by ran_at desc, run_id desc
    limit 1
)

select b.run_id, b.ran_at, b.scenario, b.horizon_h, b.metric, b.observed, b.p10, b.p50, b.p90,
       b.inside, b.error, b.runs
from twin_backtests as b
inner join latest using (run_id)
order by b.metric
