-- 002_alerts: alerts someone must own (DESIGN §5).
-- alerts: one row per fired alert; at most one unresolved alert per (rule, entity), enforced by
--   alert_state.open_alert_id, which the engine updates in the same transaction.
-- alert_state: the engine's memory between evaluations (consecutive hits/misses per rule×entity),
--   so a condition must hold N times before it fires and be clear M times before it resolves.
-- alert_log: every state change, who, when, old → new (the retro's timeline).
-- alert_notifications: every webhook delivery attempt outcome.
-- alert_rule_runs: the latest evaluation of each rule (rows, duration, error) for the sources page.

create sequence if not exists alert_id_seq;

create table if not exists alerts (
    alert_id         bigint primary key default nextval('alert_id_seq'),  -- alert number (increasing)
    rule             text,                  -- rule name = queries/alerts/<rule>.sql
    entity_type      text,                  -- sku_warehouse | sku_market | shipment | po | supplier | node | market | source
    entity_id        text,                  -- key of the entity, e.g. "GL-BOWL-01@US-WEST-LA"
    severity         text,                  -- yellow | red (only ever escalates while unresolved)
    state            text,                  -- open | acknowledged | resolved
    title            text,                  -- one line for lists and notifications
    detail           text,                  -- latest detail text from the rule
    metric           double,                -- latest measured value (unit depends on the rule)
    threshold        double,                -- threshold the metric crossed (same unit)
    playbook         text,                  -- playbooks/<playbook>.md
    first_seen_at    timestamptz,           -- first evaluation that saw the condition (before hold)
    opened_at        timestamptz,           -- when the alert fired (hold count reached)
    last_seen_at     timestamptz,           -- latest evaluation that still saw the condition
    escalated_at     timestamptz,           -- when severity went yellow → red
    acknowledged_at  timestamptz,            -- when someone acknowledged it; NULL until then
    acknowledged_by  text,                   -- who acknowledged it
    ack_comment      text,                   -- comment given on acknowledging
    owner            text,                  -- person responsible
    snoozed_until    timestamptz,           -- no banner, no overdue escalation until then
    ack_overdue_at   timestamptz,           -- when the "not acknowledged within target" escalation fired
    resolved_at      timestamptz,            -- when it was resolved; NULL while unresolved
    resolved_by      text,                  -- "engine" when the condition cleared, else a person
    resolution_note  text,                   -- what was done, as written when resolving
    updated_at       timestamptz             -- last change of this alert row (clock time)
);

create table if not exists alert_state (
    rule             text,                   -- rule name = queries/alerts/<rule>.sql
    entity_type      text,                   -- kind of entity the rule judged (see alerts.entity_type)
    entity_id        text,                   -- key of the entity
    hits             integer,               -- consecutive evaluations with the condition present
    misses           integer,               -- consecutive evaluations with it absent (while open)
    first_hit_at     timestamptz,           -- start of the current run of hits
    open_alert_id    bigint,                -- the unresolved alert for this key, if any
    suppressed       boolean,               -- resolved by hand while still true: wait for a clear
    updated_at       timestamptz,            -- last evaluation that touched this row
    primary key (rule, entity_type, entity_id)
);

create sequence if not exists alert_log_id_seq;

create table if not exists alert_log (
    log_id      bigint primary key default nextval('alert_log_id_seq'),  -- log entry number (increasing)
    alert_id    bigint,                      -- the alert that changed
    logged_at   timestamptz,                -- clock time of the change
    actor       text,                       -- "engine", "notifier" or the person's name
    action      text,                       -- opened | escalated | acknowledged | assigned | snoozed |
                                            -- resolved | ack_overdue | notified | notify_failed
    old_value   text,                        -- value before the change (state, severity, owner …)
    new_value   text,                        -- value after the change
    note        text                        -- comment, resolution note or delivery error
);

create sequence if not exists alert_notification_id_seq;

create table if not exists alert_notifications (
    notification_id bigint primary key default nextval('alert_notification_id_seq'),  -- delivery number (increasing)
    alert_id    bigint,                      -- the alert the message was about
    channel     text,                       -- configured channel name (e.g. ops_slack)
    platform    text,                       -- slack | feishu | dingtalk | wecom
    event       text,                       -- opened | escalated | ack_overdue | resolved
    severity    text,                       -- severity the message was sent as
    status      text,                       -- sent | failed
    attempts    integer,                     -- HTTP attempts made (retries included)
    http_status integer,                     -- HTTP status of the last attempt; NULL when none connected
    error       text,                       -- short, secret-free
    sent_at     timestamptz                 -- clock time of the final attempt
);

create table if not exists alert_rule_runs (
    rule          text primary key,          -- rule name = queries/alerts/<rule>.sql
    evaluated_at  timestamptz,               -- clock time of the latest evaluation
    rows_matched  integer,                   -- entities the rule's query returned
    duration_ms   double,                    -- how long the evaluation took
    error         text                      -- null when the rule ran
);
