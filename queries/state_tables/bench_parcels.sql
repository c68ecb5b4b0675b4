-- Bench: $n shipments still under way (a sync's worth of AfterShip trackings), every column, by id.
select * from shipments where delivered_at is null order by shipment_id limit $n;
