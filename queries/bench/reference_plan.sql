-- The copy plan of the reference dataset (bench/reference.py Plan), one row read by reference_build.
create or replace temp table ref_plan as
select $copies::bigint as copies, $sku_copies::bigint as sku_copies, $wh_copies::bigint as wh_copies,
       $merchant_copies::bigint as merchant_copies, $po_copies::bigint as po_copies,
       $stock_points::bigint as stock_points, $stock_step_s::bigint as stock_step_s,
       $checkpoint_keep_pct::bigint as checkpoint_keep_pct, $pair_share::double as pair_share,
       $now_at::timestamptz as now_at;
