-- 022_twin_forecast_unkeyed: twin_forecasts without its primary key. A refit replaces the whole table
-- (delete + insert in one transaction, tower.twin.forecast.refresh) with one row per series × hour by
-- construction (tests/test_twin_forecast.py checks it), so the key guarded nothing the code does not
-- already ensure, while its index lived in the app server's memory: at the reference scale (12,000
-- SKU × market series × 720 h = 8.6M rows) storing a refit grew the process by 1.40 GB with the key
-- against 0.39 GB without, took 10.6 s against 3.7 s, and the file 835 MB against 305 MB
-- (`python -m bench.bench_forecast`, bench/README.md "Forecast refit").
alter table twin_forecasts rename to twin_forecasts_keyed;

-- twin_forecasts: Tower's forecast of units sold per SKU × market × hour, fitted from order history (the latest fit only).
create table twin_forecasts (
    sku        text not null,                 -- the SKU forecast
    market     text not null,                 -- market (ISO country) the units are sold in
    hour       timestamptz not null,          -- start of the forecast hour (UTC)
    mean       double not null,               -- expected units sold in that hour
    lo80       double not null,               -- lower end of the 80 % prediction interval (units, never below 0)
    hi80       double not null,               -- upper end of the 80 % prediction interval (units)
    lo95       double not null,               -- lower end of the 95 % prediction interval (units, never below 0)
    hi95       double not null,               -- upper end of the 95 % prediction interval (units)
    model      text not null,                 -- the model that made it, e.g. MSTL(24,168)+ETS or hour_of_day_mean
    fitted_at  timestamptz not null           -- Tower's clock when the fit ran
);
-- (no key: one row per sku × market × hour, the whole table replaced by each refit)

insert into twin_forecasts select * from twin_forecasts_keyed order by sku, market, hour;
drop table twin_forecasts_keyed;
