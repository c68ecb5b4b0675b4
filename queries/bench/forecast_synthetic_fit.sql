-- bench_forecast: a refit's worth of forecast rows ($series SKU × market series × $hours hours) stored
-- in twin_forecasts, to time the store with and without the table's old key (migrations 018, 022).
insert into twin_forecasts
select 'SKU-' || lpad((i // 6)::text, 5, '0'), ['US', 'DE', 'FR', 'GB', 'JP', 'AU'][(i % 6) + 1],
    timestamptz '2026-12-05 00:00:00+00' + to_hours(h), random(), random(), random(), random(), random(),
    'MSTL(24,168)+ETS on sqrt', timestamptz '2026-12-05 00:00:00+00'
from range($series) as s(i), range($hours) as t(h)
