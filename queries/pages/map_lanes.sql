-- Map: outbound lanes, shipping warehouse → destination city, over parcels shipped in the window.
-- Grain: one row per warehouse × destination_city × destination_country (outbound shipments with a
--   warehouse, shipped — else created — in [$start, $end) and by $now).
-- parcels: parcels on the lane; in_transit: not delivered yet; late: delivered after
--   promised_delivery_at, or still under way past it at $now; late_share = late / parcels (0–1; NULL
--   when no parcel has a promise). origin_lat/origin_lon: the warehouse (degrees); the page geocodes
--   the destination city offline (connectors/geocode.py).
-- Filters: $market (destination country, else the order's market), $merchant, $channel (the order's).
-- Params: start, end, now, merchant, channel, market (NULL = all).
with outbound as (
    select
        s.*,
        o.merchant_id,
        o.channel,
        coalesce(s.destination_country, o.market) as market
    from shipments as s
    -- orders only matter to the filters: with none set the join reads nothing
    left join orders as o
        on o.order_id = s.order_id
        and ($market::text is not null or $merchant::text is not null or $channel::text is not null)
    where s.direction = 'outbound'
      and s.warehouse_id is not null
      and coalesce(s.shipped_at, s.created_at) >= $start::timestamptz
      and coalesce(s.shipped_at, s.created_at) < $end::timestamptz
      and coalesce(s.shipped_at, s.created_at) <= $now::timestamptz
),

filtered as (
    select *
    from outbound
    where ($market::text is null or market = $market::text)
      and ($merchant::text is null or merchant_id = $merchant::text)
      and ($channel::text is null or channel = $channel::text)
),

flagged as (
    select
        *,
        case
            when promised_delivery_at is null then null
            when delivered_at is not null then delivered_at > promised_delivery_at
            else $now::timestamptz > promised_delivery_at
        end as is_late
    from filtered
),

lanes as (
    select
        warehouse_id,
        destination_city,
        destination_country,
        count(*) as parcels,
        count(*) filter (where delivered_at is null or delivered_at > $now::timestamptz) as in_transit,
        count(*) filter (where is_late) as late,
        count(*) filter (where is_late) / nullif(count(is_late), 0) as late_share
    from flagged
    group by warehouse_id, destination_city, destination_country
),

final as (
    select l.*, w.name as warehouse_name, w.lat as origin_lat, w.lon as origin_lon
    from lanes as l
    left join warehouses as w using (warehouse_id)
)

select * from final
order by parcels desc, warehouse_id, destination_country, destination_city
