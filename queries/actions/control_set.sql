-- Actions: flip a playbook's kill switch. Params: $playbook, $enabled, $by, $at, $reason.
insert or replace into playbook_controls (playbook, enabled, changed_by, changed_at, reason)
values ($playbook, $enabled, $by, $at, $reason)
