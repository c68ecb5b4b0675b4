-- Revoke a wall-screen link (tower/auth/wall_tokens.py revoke); a link already revoked keeps its first revocation.
update wall_tokens
set revoked_at = $revoked_at, revoked_by = $revoked_by
where token_id = $token_id and revoked_at is null
