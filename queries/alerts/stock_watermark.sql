-- Rule stock_watermark: stock below its watermarks, as of $now.
-- Grain: one row per sku × warehouse whose latest observed available quantity (observed at or
-- before $now) is below the warning watermark (yellow) or the limit watermark (red) from
-- stock_policies. metric = available units; threshold = the watermark crossed (units).
-- Params: $now.
with latest as (
    -- newest observation at or before $now (timestamps are whole microseconds, so "before the next
    -- microsecond"); stock_latest_before reads the current-state table, not the whole history
    select sku, warehouse_id, observed_at, available
    from stock_latest_before($now::timestamptz + interval 1 microsecond)
),

below as (
    select
        l.sku,
        l.warehouse_id,
        l.available,
        p.warning_qty,
        p.limit_qty,
        l.available < p.limit_qty as below_limit
    from latest as l
    inner join stock_policies as p using (sku, warehouse_id)
    where l.available < p.warning_qty
),

final as (
    select
        case when below_limit then 'red' else 'yellow' end as severity,
        'sku_warehouse' as entity_type,
        sku || '@' || warehouse_id as entity_id,
        'Stock ' || case when below_limit then 'below limit' else 'below warning' end
            || ': ' || sku || ' at ' || warehouse_id as title,
        available || ' available; warning ' || warning_qty || ', limit ' || limit_qty as detail,
        available::double as metric,
        (case when below_limit then limit_qty else warning_qty end)::double as threshold
    from below
)

select * from final
