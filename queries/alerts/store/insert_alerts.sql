-- Write newly opened alerts. Reads the registered relation `staged` (alerts columns by name).
insert into alerts by name
select * from staged
