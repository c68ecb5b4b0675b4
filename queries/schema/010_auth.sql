-- 010_auth: the audit trail and the wall-screen links (issue 12).

create sequence if not exists audit_seq;

-- audit_log: one row per write, export or console query: who, when, from where, what changed (append-only).
create table if not exists audit_log (
    audit_id     bigint primary key default nextval('audit_seq'), -- order of recording
    happened_at  timestamptz not null,       -- Tower's clock when it happened (simulated in the sandbox, like alert_log)
    wall_at      timestamptz not null,       -- the real UTC time it was recorded
    actor        text not null,              -- stable id of who did it: OIDC subject, "local" or "wall:<token id>"
    actor_name   text,                       -- the name shown for the actor (email or display name)
    roles        text,                       -- the actor's roles at the time, comma-separated
    merchant_id  text,                       -- the merchant the actor is confined to; NULL = all merchants
    origin       text,                       -- where the request came from (client address)
    via          text,                       -- how the actor signed in: oidc | local | wall_token
    action       text not null,              -- what was done, e.g. alert.acknowledge, export, console.query
    target       text,                       -- what it was done to, e.g. alert:42, the file name
    detail       json                        -- what changed (old and new values, the SQL run …)
);

-- wall_tokens: signed read-only links for wall screens; the signature proves the id, this row says if it still holds.
create table if not exists wall_tokens (
    token_id     text primary key,           -- random id inside the signed token
    playlist     text,                       -- the pages the screen rotates through (comma-separated url paths)
    issued_by    text not null,              -- who issued the link (audit actor)
    issued_at    timestamptz not null,       -- when it was issued (real UTC)
    expires_at   timestamptz not null,       -- after this the link stops working (real UTC)
    revoked_at   timestamptz,                -- when an admin revoked it; NULL while valid
    revoked_by   text,                       -- who revoked it
    label        text                        -- what the screen is, e.g. "Shenzhen war room, left TV"
);
