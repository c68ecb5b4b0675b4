-- 015_actions: the action log of executable playbooks (issue 13). One row per action, its
-- state changes appended to action_transitions; nothing here is ever deleted.

create sequence if not exists action_seq;
create sequence if not exists action_transition_seq;

-- actions: one typed write to an outside system (a PO, a booking, a storefront change …) and where it stands.
create table if not exists actions (
    action_id        bigint primary key default nextval('action_seq'), -- order of proposal
    idempotency_key  text not null unique,   -- the same intent always gets the same key: a retry, a double click or a second app replica finds this row instead of adding one; also sent to the vendor
    execution_id     text,                   -- one run of a playbook for one alert, e.g. "B-03/alert-42"; groups its actions
    playbook         text,                   -- the executable playbook that planned it (e.g. B-03); NULL for a one-off action
    step             integer,                -- its position in the playbook's plan (1, 2 …)
    alert_id         bigint,                 -- the alert that triggered it, if any
    kind             text not null,          -- raise_po | book_freight | set_promised_ship_time | create_discount | transfer_stock | cap_promotion | notify
    mode             text not null,          -- manual | approval | automatic: how the playbook lets it run
    params           json not null,          -- its validated parameters (never a secret)
    diagnosis        json,                   -- the live numbers the plan was computed from, as of proposed_at
    estimated_cost   double,                 -- what it is expected to cost, in the reporting currency (USD)
    status           text not null,          -- proposed | approved | rejected | sending | sent | acknowledged | failed | manual | done | reverting | reverted | cancelled
    proposed_by      text not null,          -- who proposed it (audit actor, or "automatic:<playbook>")
    proposed_at      timestamptz not null,   -- Tower's clock at proposal
    decided_by       text,                   -- who approved or rejected it
    decided_at       timestamptz,            -- when it was approved or rejected
    decision_comment text,                   -- the approver's or rejecter's comment
    sent_at          timestamptz,            -- when the vendor first accepted the request
    acknowledged_at  timestamptz,            -- when the vendor's confirmation came back (through a connector or the reply)
    done_at          timestamptz,            -- when its effect was observed (e.g. the PO's goods produced, the coupon live)
    external_id      text,                   -- the vendor's id for it: PO number, booking id, discount or metafield id
    request          json,                   -- the exact request sent or to be sent (method, url, body; no credentials)
    response         json,                   -- the vendor's last reply body
    attempts         integer not null default 0, -- how many times it was sent
    last_error       text,                   -- the last failure in words (HTTP status, timeout, refusal)
    updated_at       timestamptz not null    -- Tower's clock at the last change
);

-- action_transitions: every change of an action's status: who moved it, when, why (append-only).
create table if not exists action_transitions (
    transition_id bigint primary key default nextval('action_transition_seq'), -- order of recording
    action_id     bigint not null,          -- the action that changed
    happened_at   timestamptz not null,     -- Tower's clock when it changed
    wall_at       timestamptz not null,     -- the real UTC time it was recorded
    from_status   text,                     -- the status before (NULL when proposed)
    to_status     text not null,            -- the status after
    actor         text not null,            -- who or what moved it (audit actor, "automatic:<playbook>", "reconciler")
    note          text                      -- why: a comment, an error, the vendor's reply in short
);

-- playbook_controls: the kill switch of an automatic playbook, flipped on the Actions page without editing config.
create table if not exists playbook_controls (
    playbook    text primary key,           -- the executable playbook (e.g. B-03)
    enabled     boolean not null,           -- false = the kill switch is on: it proposes nothing and sends nothing automatically
    changed_by  text not null,              -- who flipped it (audit actor)
    changed_at  timestamptz not null,       -- Tower's clock when it was flipped
    reason      text                        -- why, in words
);
