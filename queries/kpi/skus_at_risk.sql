-- name: skus_at_risk
-- label: SKUs at risk
-- label_zh: 缺货风险 SKU
-- definition: The sku × warehouse pairs that run out first at the pace of the last 4 hours (already
--   out of stock first), with what is inbound to save them.
-- grain: one row per sku × warehouse that is out of stock or selling; the $limit soonest
-- params: start (unused), end, now, market (the warehouse's), limit (rows); merchant and channel do
--   not apply (stock is shared)
-- returns: the stock_health columns (same definitions), ordered by hours_to_stockout ascending
with params as (
    select
        least($end::timestamptz, $now::timestamptz) as as_of,
        $start::timestamptz as window_start,  -- unused: a state, not a window
        $merchant::text as merchant,          -- unused: stock is shared by all merchants
        $channel::text  as channel,           -- unused: stock is shared by all channels
        $market::text   as market,
        $limit::integer as row_limit
),

-- latest observation before as_of per pair (history, so "as of 10:00" replays)
stock_as_of as (
    select o.sku, o.warehouse_id, o.available, o.observed_at
    from stock_observations o
    cross join params p
    left join warehouses w using (warehouse_id)
    where o.observed_at < p.as_of
      and (p.market is null or w.market = p.market)
    qualify row_number() over (partition by o.sku, o.warehouse_id order by o.observed_at desc) = 1
),

-- units sold per sku × fulfilling warehouse: last 7 days (cover) and last 4 hours (pace)
sales as (
    select
        l.sku,
        o.warehouse_id,
        sum(l.quantity) as units_7d,
        coalesce(sum(l.quantity) filter (where o.created_at >= p.as_of - interval 4 hour), 0)
            as units_4h
    from order_lines l
    join orders o using (order_id)
    cross join params p
    where o.created_at >= p.as_of - interval 7 day
      and o.created_at < p.as_of
      and (o.cancelled_at is null or o.cancelled_at >= p.as_of)
    group by all
),

-- inbound: POs not cancelled/closed whose goods have not arrived by as_of
arrived_pos as (
    select distinct s.po_id
    from shipments s
    cross join params p
    where s.direction = 'inbound' and s.po_id is not null and s.delivered_at < p.as_of
),

moving_pos as (
    select s.po_id, min(s.eta) as eta
    from shipments s
    cross join params p
    where s.direction = 'inbound'
      and s.po_id is not null
      and coalesce(s.created_at, s.shipped_at) < p.as_of
      and (s.delivered_at is null or s.delivered_at >= p.as_of)
    group by s.po_id
),

inbound as (
    select
        po.sku,
        po.warehouse_id,
        sum(po.quantity_ordered) as inbound_qty,
        coalesce(sum(po.quantity_ordered) filter (where m.po_id is not null), 0)
            as inbound_in_transit_qty,
        min(m.eta) as next_inbound_eta,
        min(po.promised_ship_date) filter (where m.po_id is null) as next_po_ship_date
    from purchase_orders po
    cross join params p
    left join moving_pos m using (po_id)
    left join arrived_pos a using (po_id)
    where po.ordered_at < p.as_of
      and coalesce(po.status, '') not in ('cancelled', 'closed')
      and a.po_id is null
    group by all
),

health as (
    select
        s.sku,
        k.name as sku_name,
        k.sku_class,
        s.warehouse_id,
        w.name as warehouse_name,
        w.market,
        s.available,
        s.observed_at,
        sp.safety_qty,
        sp.warning_qty,
        sp.limit_qty,
        -- planned cover by class (DESIGN §1): core 45 d, potential 30 d, long tail 15 d
        case k.sku_class when 'core' then 45 when 'potential' then 30 when 'long_tail' then 15
            else 30 end as cover_days,
        coalesce(x.units_7d, 0)::bigint as units_sold_7d,
        coalesce(x.units_4h, 0) / 4.0 as units_per_hour,
        greatest(s.available, 0) / nullif(coalesce(x.units_7d, 0) / 7.0, 0) as days_of_supply,
        case
            when s.available <= 0 then 0.0
            when coalesce(x.units_4h, 0) > 0 then s.available / (x.units_4h / 4.0)
        end as hours_to_stockout,
        coalesce(i.inbound_qty, 0)::bigint as inbound_qty,
        coalesce(i.inbound_in_transit_qty, 0)::bigint as inbound_in_transit_qty,
        i.next_inbound_eta,
        i.next_po_ship_date
    from stock_as_of s
    left join skus k using (sku)
    left join warehouses w using (warehouse_id)
    left join stock_policies sp using (sku, warehouse_id)
    left join sales x using (sku, warehouse_id)
    left join inbound i using (sku, warehouse_id)
),

final as (
    select
        *,
        case
            when available <= 0 or available < limit_qty then 'red'
            when available < warning_qty then 'yellow'
            when days_of_supply > 2 * cover_days then 'over'
            else 'green'
        end as status
    from health
)

select f.*
from final f
where f.hours_to_stockout is not null
order by f.hours_to_stockout, f.units_per_hour desc, f.sku, f.warehouse_id
limit (select greatest(coalesce(row_limit, 10), 0) from params)
