-- bench_forecast: the newest order's time (the refit's history ends at its hour).
select max(created_at) as last_order from orders
