-- pack_po_progress: production progress of the window — reports in [$start, $end) plus, per
-- purchase order, the last one before $start, so each PO's progress at any moment of the window can
-- be rebuilt from the pack alone.
-- grain: one row per progress report. returns: the columns of `po_progress`
with before_start as (
    select *
    from po_progress
    where observed_at < $start::timestamptz
    qualify row_number() over (partition by po_id order by observed_at desc) = 1
),

inside as (
    select *
    from po_progress
    where observed_at >= $start::timestamptz
      and observed_at < $end::timestamptz
)

select * from before_start
union all
select * from inside
order by po_id, observed_at
