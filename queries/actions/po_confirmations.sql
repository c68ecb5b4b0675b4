-- Sent or acknowledged purchase orders and what the supplier portal says of them now: whether the PO
-- number is known to the portal, whether any of its goods have shipped, whether the supplier cancelled it.
select a.action_id, a.status, a.external_id,
       po.po_id is not null as po_known,
       coalesce(po.status in ('shipped', 'closed'), false)
         or coalesce((select max(pp.quantity_shipped) from po_progress as pp where pp.po_id = a.external_id), 0) > 0
         as goods_shipped,
       coalesce(po.status = 'cancelled', false) as po_cancelled
from actions as a
left join purchase_orders as po on po.po_id = a.external_id
where a.kind = 'raise_po' and a.status in ('sent', 'acknowledged') and a.external_id is not null
order by a.action_id
