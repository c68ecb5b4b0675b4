-- playbook_controls: the kill switch of each automatic playbook as last flipped on the Actions page
-- (a playbook with no row has never been switched: it runs).
-- grain: one row per playbook ever switched.
-- params: none
-- returns: playbook, enabled (false = stopped), changed_by, changed_at, reason
select playbook, enabled, changed_by, changed_at, reason
from playbook_controls
order by playbook
