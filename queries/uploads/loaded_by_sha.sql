-- loaded_by_sha: the earlier upload of the same file ($kind, $sha256) that loaded, if any.
select upload_id, uploaded_at, uploaded_by_name
from uploads
where kind = $kind and sha256 = $sha256 and status = 'loaded'
order by upload_id
limit 1
