-- Whether a warehouse is in the planning sheet.
select count(*) > 0 from warehouses where warehouse_id = $id
