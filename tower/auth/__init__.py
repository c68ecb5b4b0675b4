"""Who may do what: identities and roles (policy), the append-only audit trail (audit).

Sits below the domain: alerts, actions, exports and the console check `policy.require` before they
write, and record what they did with `audit.record`, whatever page or job called them."""
