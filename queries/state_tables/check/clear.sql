-- Test check: empty the three histories, the shipments and their current-state tables (between
-- generated cases).
delete from stock_observations;
delete from po_progress;
delete from tracking_events;
delete from stock_latest;
delete from po_progress_latest;
delete from tracking_latest;
delete from tracking_superseded;
delete from tracking_fixes;
delete from shipments;
delete from shipment_latest;
