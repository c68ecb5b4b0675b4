-- Forget the order rollup rows of the delivery hours $delivered and shipment hours $shipped (all
-- rows when $all), before order_hours_insert recomputes exactly those hours.
delete from rollup_order_hours
where $all::boolean
   or (basis = 'delivered' and hour in (select unnest($delivered::timestamptz[])))
   or (basis = 'shipped' and hour in (select unnest($shipped::timestamptz[])));
