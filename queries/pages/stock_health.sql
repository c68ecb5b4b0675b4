-- Stock: health per sku × warehouse as of min(end, now), worst first (stock_health_at in
--   queries/kpi/_facts.sql): units available against the safety / warning / limit watermarks,
--   cover and runway at the current pace, and what is on its way.
-- Params: end, now, market (the warehouse's); stock is shared by merchants.
-- Returns: sku, sku_name, sku_class, warehouse_id, warehouse_name, market, available, observed_at,
--   safety_qty, warning_qty, limit_qty, cover_days (planned for the class), units_sold_7d,
--   units_per_hour (last 4 h), days_of_supply (available ÷ 7-day average, NULL without sales),
--   hours_to_stockout (0 when out, NULL without sales in 4 h), inbound_qty (open POs not yet
--   arrived), inbound_in_transit_qty, next_inbound_eta (earliest in-transit ETA), next_po_ship_date
--   (earliest promised ship date of POs not yet shipped), status: red (out, or below limit) |
--   yellow (below warning) | over (more than twice the planned cover) | green
select *
from stock_health_at(least(coalesce($end::timestamptz, $now::timestamptz), $now::timestamptz), $market::text)
order by case status when 'red' then 0 when 'yellow' then 1 when 'green' then 2 else 3 end,
    hours_to_stockout nulls last, sku, warehouse_id
