-- Actions: a playbook's kill switch (no row = enabled). Columns: enabled, changed_by, changed_at,
-- reason. Params: $playbook.
select enabled, changed_by, changed_at, reason from playbook_controls where playbook = $playbook
