-- bench.machine's DuckDB workload: hash and group twenty million generated rows on every core
-- (no table: it measures the machine, not a file).
select sum(hash(i) % 1000)
from range(20000000) t(i)
group by i % 1000
order by 1
limit 1
