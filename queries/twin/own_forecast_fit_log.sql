-- Tower forecast: record one refresh. Params: $fitted_at, $history_key, $history_from,
-- $history_until, $series, $rows_written, $seconds, $reason.
insert into twin_forecast_fits (fitted_at, history_key, history_from, history_until, series,
                                rows_written, seconds, reason)
values ($fitted_at, $history_key, $history_from, $history_until, $series, $rows_written, $seconds, $reason)
