-- Write the engine's memory. Reads `staged` (alert_state columns, in table order).
insert into alert_state
select * from staged
