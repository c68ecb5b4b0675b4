-- Every wall-screen link, newest first, with its state at $now: valid, expired or revoked (pages/wall_links.py).
select token_id, playlist, label, issued_by, issued_at, expires_at, revoked_at, revoked_by,
       case when revoked_at is not null then 'revoked'
            when expires_at <= $now then 'expired'
            else 'valid' end as state
from wall_tokens
order by issued_at desc, token_id
