-- One action by its idempotency key.
select * from actions where idempotency_key = $key
