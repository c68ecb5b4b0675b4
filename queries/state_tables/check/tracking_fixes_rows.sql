-- Test/bench check: every row of tracking_fixes, in a fixed order.
select * from tracking_fixes order by all;
