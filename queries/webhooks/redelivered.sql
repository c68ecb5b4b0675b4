-- redelivered: deliveries of $source whose ids ($ids) were seen again (the vendor retried) $copies
-- times each: count them, apply nothing. Returns nothing.
update webhook_events set deliveries = deliveries + again.copies
from (select unnest($ids::text[]) as delivery_id, unnest($copies::integer[]) as copies) again
where webhook_events.source = $source and webhook_events.delivery_id = again.delivery_id
