-- bench_forecast: rows stored and the sum of their means (two refits that agree give the same pair).
select count(*) as n, sum(mean) as total from stored
