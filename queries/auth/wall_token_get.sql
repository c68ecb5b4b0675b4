-- One wall-screen link by id (tower/auth/wall_tokens.py verify and revoke): is it known, revoked, expired?
select token_id, playlist, issued_by, issued_at, expires_at, revoked_at, revoked_by, label
from wall_tokens
where token_id = $token_id
