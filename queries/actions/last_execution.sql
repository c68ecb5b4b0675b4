-- Actions: when a playbook last proposed anything for $sku (its cooldown runs from there).
-- Grain: one row. Columns: last_at (NULL when never). Params: $playbook, $sku.
select max(proposed_at) as last_at
from actions
where playbook = $playbook and json_extract_string(params, '$.sku') = $sku
  and status not in ('rejected', 'cancelled')
