-- redelivered: deliveries of $source whose ids ($ids) were seen again (the vendor retried): count
-- them, apply nothing. Returns nothing.
update webhook_events set deliveries = deliveries + 1
where source = $source and delivery_id in (select unnest($ids::text[]))
