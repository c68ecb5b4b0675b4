-- Twin backtest: drop an earlier result of the same run before it is written again. Params: $run_id.
delete from twin_backtests where run_id = $run_id
