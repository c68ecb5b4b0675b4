-- stockout_episodes: each spell a sku × warehouse spent at 0 (or less) available, cut to the window,
-- with the sales pace just before it ran dry — the inputs of the lost-sales estimate.
-- A spell starts at the first observation showing <= 0 and ends at the next observation showing
-- stock again (or the window end while still out); spells that began before the window count from
-- the window start.
-- grain: one row per stockout spell overlapping [$start, min($end, $now)).
-- params: start, end, now, market (the warehouse's; NULL = all), lookback_hours (N hours before the
--   spell whose sales give the pre-stockout rate)
-- returns: sku, warehouse_id, market, out_from (when it hit 0), out_to (when stock came back; NULL
--   = still out at the window end), hours (stockout hours inside the window), pre_units (units of
--   the sku sold from the warehouse in the N hours before out_from, cancelled orders left out),
--   lookback_hours, unit_price (the sku's list price; else its average line price)
with params as (
    select
        $start::timestamptz                          as window_start,
        least($end::timestamptz, $now::timestamptz) as as_of,
        $market::text                                as market,
        $lookback_hours::double                      as lookback_hours
),

-- only pairs that were ever out before as_of can have a spell: the windows below then sort their
-- history alone, not every pair's (at the reference scale 5.8M observations, 4.8 s a call)
ever_out as (
    select distinct s.sku, s.warehouse_id
    from stock_observations s
    cross join params p
    where s.available <= 0 and s.observed_at < p.as_of
),

observations as (
    select
        s.sku, s.warehouse_id, s.observed_at,
        s.available <= 0 as is_out,
        lead(s.observed_at) over w as next_at
    from stock_observations s
    semi join ever_out using (sku, warehouse_id)
    cross join params p
    where s.observed_at < p.as_of
    window w as (partition by s.sku, s.warehouse_id order by s.observed_at)
),

-- gaps and islands: a new island starts whenever out/in flips
islands as (
    select
        *,
        sum(case when is_out is distinct from prev_out then 1 else 0 end)
            over (partition by sku, warehouse_id order by observed_at) as island
    from (
        select *, lag(is_out) over (partition by sku, warehouse_id order by observed_at) as prev_out
        from observations
    )
),

spells as (
    select
        sku, warehouse_id,
        min(observed_at) as out_from,
        -- the observation after the island's last row is the one that showed stock again; none
        -- (NULL) means still out. arg_max skips NULL args, hence the 'infinity' stand-in.
        nullif(arg_max(coalesce(next_at, 'infinity'::timestamptz), observed_at),
               'infinity'::timestamptz) as out_to
    from islands
    where is_out
    group by sku, warehouse_id, island
),

in_window as (
    select
        sp.sku, sp.warehouse_id, sp.out_from, sp.out_to,
        epoch(least(coalesce(sp.out_to, p.as_of), p.as_of) - greatest(sp.out_from, p.window_start))
            / 3600.0 as hours
    from spells sp
    cross join params p
    where coalesce(sp.out_to, p.as_of) > p.window_start
      and sp.out_from < p.as_of
),

pre_sales as (
    select iw.sku, iw.warehouse_id, iw.out_from, sum(l.quantity) as units, avg(l.price) as avg_price
    from in_window iw
    cross join params p
    join orders o
      on o.warehouse_id = iw.warehouse_id
     and o.created_at >= iw.out_from - to_microseconds((p.lookback_hours * 3600e6)::bigint)
     and o.created_at < iw.out_from
     and o.cancelled_at is null
    join order_lines l on l.order_id = o.order_id and l.sku = iw.sku
    group by all
),

final as (
    select
        iw.sku,
        iw.warehouse_id,
        w.market,
        iw.out_from,
        iw.out_to,
        iw.hours,
        coalesce(ps.units, 0) as pre_units,
        p.lookback_hours,
        coalesce(k.unit_price, ps.avg_price)::double as unit_price
    from in_window iw
    cross join params p
    left join pre_sales ps using (sku, warehouse_id, out_from)
    left join skus k using (sku)
    left join warehouses w using (warehouse_id)
    where iw.hours > 0
      and (p.market is null or w.market = p.market)
)

select * from final
order by out_from, sku, warehouse_id
