-- seen: the (source, delivery_id) pairs among $ids (delivery ids) already recorded in webhook_events.
select source, delivery_id from webhook_events where delivery_id in (select unnest($ids::text[]))
