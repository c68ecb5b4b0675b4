-- After a batch of stock_observations (an append-only history) is applied: for each pair the batch
-- touched, keep the newer of the stored state and the batch's rows as stored (the table keeps the
-- first row of a key, so the stored values, not the batch's, count). `_state_batch` is the batch.
-- (delete + insert rather than INSERT OR REPLACE: DuckLake tables have no keys to replace on)
create or replace temp table _state_new as
select sku, warehouse_id, observed_at, available
from (
    select o.sku, o.warehouse_id, o.observed_at, o.available
    from stock_observations o
    semi join (
        select cast(sku as text) as sku, cast(warehouse_id as text) as warehouse_id,
            cast(observed_at as timestamptz) as observed_at
        from _state_batch
    ) b using (sku, warehouse_id, observed_at)
    union all
    select l.sku, l.warehouse_id, l.observed_at, l.available
    from stock_latest l
    semi join (
        select cast(sku as text) as sku, cast(warehouse_id as text) as warehouse_id from _state_batch
    ) b using (sku, warehouse_id)
)
qualify row_number() over (partition by sku, warehouse_id order by observed_at desc) = 1;

delete from stock_latest where (sku, warehouse_id) in (select (sku, warehouse_id) from _state_new);

insert into stock_latest by name select * from _state_new;

drop table _state_new;
