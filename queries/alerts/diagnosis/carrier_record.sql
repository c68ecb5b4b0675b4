-- Diagnosis carrier_record: the carrier of the shipment (or lane, 'carrier:country') in $entity_id
-- over the last 24 h to $now.
-- Grain: one row per tag of that carrier's shipments updated in the window. Columns: carrier,
-- tag, shipments (count).
-- Params: $now, $entity_id.
with carrier as (
    select lower(trim(carrier)) as carrier from shipments where shipment_id = $entity_id
    union
    select split_part($entity_id, ':', 1) where $entity_id like '%:%'
),

final as (
    select s.carrier, s.tag, count(*) as shipments
    from shipments as s
    inner join carrier as c on lower(trim(s.carrier)) = c.carrier
    where s.updated_at > $now::timestamptz - interval 24 hour
      and s.updated_at <= $now
    group by all
)

select * from final order by shipments desc
