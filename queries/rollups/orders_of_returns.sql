-- The orders the stored return requests $ids are for (before and after a returns batch).
select distinct order_id from returns
where return_id in (select unnest($ids::text[])) and order_id is not null;
