-- Bench only (bench/bench_state_tables.py --stock-days N): give every SKU × warehouse with a stock
-- policy a 15-minute series of observations for the $days days before $now, as the reference
-- dataset's stock history has (the sandbox world observes stock once per sync). Existing rows win.
insert into stock_observations by name
select p.sku, p.warehouse_id, t.ts as observed_at,
    (hash(p.sku, p.warehouse_id, t.ts) % 600)::integer as available
from (select distinct sku, warehouse_id from stock_policies) p
cross join (
    select unnest(range($now::timestamptz - to_days($days::integer), $now::timestamptz, interval 15 minute)) as ts
) t
on conflict do nothing;
