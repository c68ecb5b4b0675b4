-- Test/bench check: every row of shipment_latest, in a fixed order.
select * from shipment_latest order by all;
