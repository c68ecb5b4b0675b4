-- bench.bench_console: $n orders over five markets, one a minute, for the console to aggregate.
insert into orders (order_id, market, created_at)
select 'bench-' || i, (['US', 'DE', 'GB', 'FR', 'JP'])[1 + i % 5], timestamp '2026-11-20' + i * interval 1 minute
from range($n) t(i)
