-- pack_purchase_orders: purchase orders alive during [$start, $end): ordered before the end and
-- either still open at the start or changed since. No merchant/channel/market filter: supply is
-- shared by every shop.
-- grain: one row per purchase order. returns: the columns of `purchase_orders`
select p.*
from purchase_orders p
where p.ordered_at < $end::timestamptz
  and (p.updated_at >= $start::timestamptz or p.status not in ('closed', 'cancelled'))
order by p.ordered_at, p.po_id
