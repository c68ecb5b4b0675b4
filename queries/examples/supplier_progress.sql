-- Purchase-order progress by supplier
-- Open purchase orders with produced share vs the share of time elapsed to the promised ship date,
-- as of $now. Grain: one row per purchase order. Units: ratio 0–1 (produced_share, time_share).
with open_pos as (
    select p.po_id, p.supplier_id, s.tier, p.sku, p.quantity_ordered, p.quantity_produced,
           p.ordered_at, p.promised_ship_date
    from po_current p
    left join suppliers s using (supplier_id)
    where p.status in ('open', 'in_production')
),

final as (
    select
        po_id, supplier_id, tier, sku, quantity_ordered, quantity_produced,
        round(coalesce(quantity_produced, 0) / nullif(quantity_ordered, 0), 3) as produced_share,
        round(least(1, greatest(0,
            epoch($now - ordered_at) / nullif(epoch(promised_ship_date - ordered_at), 0))), 3)
            as time_share,
        promised_ship_date
    from open_pos
)

select * from final
order by produced_share - time_share
