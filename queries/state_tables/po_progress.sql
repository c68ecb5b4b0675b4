-- After a batch of po_progress (append-only history) is applied: for each PO the batch touched,
-- keep the newer of the stored state and the batch's rows as stored. `_state_batch` is the batch.
-- (delete + insert rather than INSERT OR REPLACE: DuckLake tables have no keys to replace on)
create or replace temp table _state_new as
select po_id, observed_at, quantity_produced, quantity_qc_passed, quantity_shipped, status, source
from (
    select r.po_id, r.observed_at, r.quantity_produced, r.quantity_qc_passed, r.quantity_shipped,
        r.status, r.source
    from po_progress r
    semi join (
        select cast(po_id as text) as po_id, cast(observed_at as timestamptz) as observed_at
        from _state_batch
    ) b using (po_id, observed_at)
    union all
    select l.po_id, l.observed_at, l.quantity_produced, l.quantity_qc_passed, l.quantity_shipped,
        l.status, l.source
    from po_progress_latest l
    semi join (select cast(po_id as text) as po_id from _state_batch) b using (po_id)
)
qualify row_number() over (partition by po_id order by observed_at desc) = 1;

delete from po_progress_latest where po_id in (select po_id from _state_new);

insert into po_progress_latest by name select * from _state_new;

drop table _state_new;
