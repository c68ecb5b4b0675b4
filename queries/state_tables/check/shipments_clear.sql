-- Test check: empty the shipments and their checkpoint history and state tables (between generated cases).
delete from shipments;
delete from tracking_events;
delete from tracking_latest;
delete from tracking_superseded;
delete from shipment_latest;
