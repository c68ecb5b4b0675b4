"""Executable playbooks (issue 13): typed actions, their durable log, approvals and automatic runs.

Above the domain layer: a playbook reads the alerts' diagnosis, the KPIs and the twin's decision table,
and writes through the action clients of connectors/actions."""
