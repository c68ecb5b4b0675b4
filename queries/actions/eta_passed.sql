-- Acknowledged movements (freight bookings, stock transfers) whose vendor ETA has passed by $now.
select action_id from actions
where status = 'acknowledged' and kind in ('book_freight', 'transfer_stock') and eta is not null and eta <= $now
order by action_id
