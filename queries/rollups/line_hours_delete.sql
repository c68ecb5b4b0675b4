-- Forget the order-line rollup rows of the order hours $hours (all rows when $all).
delete from rollup_line_hours
where $all::boolean or hour in (select unnest($hours::timestamptz[]));
