"""Alerts: SQL rules evaluated by an engine with hold/clear counts, a lifecycle someone must own
(acknowledge, assign, snooze, resolve), playbooks with live diagnosis, and webhook notifications."""
