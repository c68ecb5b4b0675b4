-- Shipments past their ETA and not delivered
-- Shipments whose latest ETA is before $now and that have no delivery yet, with hours late.
-- Grain: one row per shipment. Units: hours (hours_late). Uses $now and $market (destination).
with open_shipments as (
    select shipment_id, tracking_number, carrier, mode, direction, tag, subtag,
           destination_country, eta, last_checkpoint_at
    from shipments
    where delivered_at is null
      and eta < $now
      and ($market is null or destination_country = $market)
),

final as (
    select *, round(epoch($now - eta) / 3600, 1) as hours_late
    from open_shipments
)

select * from final
order by hours_late desc
