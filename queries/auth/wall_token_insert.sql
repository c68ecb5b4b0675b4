-- A new wall-screen link (tower/auth/wall_tokens.py issue); its audit row commits in the same transaction.
insert into wall_tokens (token_id, playlist, issued_by, issued_at, expires_at, revoked_at, revoked_by, label)
values ($token_id, $playlist, $issued_by, $issued_at, $expires_at, null, null, $label)
