-- known_warehouses: every warehouse code and name, to check an uploaded sheet's rows against.
select warehouse_id, name from warehouses where warehouse_id is not null order by warehouse_id
