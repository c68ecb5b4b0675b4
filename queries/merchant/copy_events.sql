-- Merchant scope: the promotion calendar (the window picker and the retro need it). Disruptions are
-- the platform's operations and are not copied.
insert into events by name
select * from src.events where kind = 'promotion';
