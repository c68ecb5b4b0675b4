-- Actions: what a playbook's actions proposed since $since are expected to cost (USD), refused and
-- withdrawn ones aside. Grain: one row. Columns: spent. Params: $playbook, $since.
select coalesce(sum(coalesce(vendor_cost, estimated_cost, 0)), 0) as spent
from actions
where playbook = $playbook and proposed_at >= $since::timestamptz
  and status not in ('rejected', 'cancelled', 'failed', 'reverted')
