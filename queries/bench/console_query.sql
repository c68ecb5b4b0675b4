-- bench.bench_console: what the analyst types into the console (orders per market).
select market, count(*) orders from orders group by market order by market
