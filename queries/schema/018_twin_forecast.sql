-- 018_twin_forecast: Tower's own demand forecast and the twin's last backtest against the sandbox (issue 14).

-- twin_forecasts: Tower's forecast of units sold per SKU × market × hour, fitted from order history (the latest fit only).
create table if not exists twin_forecasts (
    sku        text not null,                 -- the SKU forecast
    market     text not null,                 -- market (ISO country) the units are sold in
    hour       timestamptz not null,          -- start of the forecast hour (UTC)
    mean       double not null,               -- expected units sold in that hour
    lo80       double not null,               -- lower end of the 80 % prediction interval (units, never below 0)
    hi80       double not null,               -- upper end of the 80 % prediction interval (units)
    lo95       double not null,               -- lower end of the 95 % prediction interval (units, never below 0)
    hi95       double not null,               -- upper end of the 95 % prediction interval (units)
    model      text not null,                 -- the model that made it, e.g. MSTL(24,168)+ETS or hour_of_day_mean
    fitted_at  timestamptz not null,          -- Tower's clock when the fit ran
    primary key (sku, market, hour)
);

-- twin_forecast_fits: one row per forecast refresh that ran (or found nothing to fit), newest last.
create table if not exists twin_forecast_fits (
    fitted_at     timestamptz not null,       -- Tower's clock when the refresh ran
    history_key   text not null,              -- fingerprint of the completed-hour order history it read; the same key = nothing new, so the next refresh is skipped
    history_from  timestamptz,                -- first hour of history read (UTC)
    history_until timestamptz,                -- end of the history read (the first hour not read; the forecast starts here)
    series        integer not null,           -- SKU × market series forecast
    rows_written  integer not null,           -- rows written to twin_forecasts
    seconds       double not null,            -- wall time the fit took
    reason        text                        -- why nothing was forecast (e.g. no order history), else NULL
);

-- twin_backtests: the last backtest of the twin against the sandbox world, one row per metric (the last run_id is the current one).
create table if not exists twin_backtests (
    run_id       text not null,               -- one backtest run, e.g. "supplier_stop@2026-12-04T10:00Z"
    ran_at       timestamptz not null,        -- Tower's clock when the backtest ran
    scenario     text not null,               -- the disruption injected into both the twin and the sandbox
    start_at     timestamptz not null,        -- the moment both were started from (UTC)
    horizon_h    integer not null,            -- hours both were run forward
    metric       text not null,               -- e.g. stockout_hours:GL-CUP-02@US-WEST-LA or lost_units
    observed     double,                      -- what happened in the sandbox world
    p10          double,                      -- the twin's 10th percentile over its Monte Carlo runs
    p50          double,                      -- the twin's median
    p90          double,                      -- the twin's 90th percentile
    inside       boolean,                     -- observed within [p10, p90]
    error        double,                      -- p50 − observed (positive = the twin expected more)
    runs         integer,                     -- Monte Carlo runs of the twin
    primary key (run_id, metric)
);
