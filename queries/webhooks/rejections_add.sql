-- rejections_add: add $n refused deliveries (bad or missing signature) to a source's count. Returns nothing.
insert into webhook_rejections (source, rejected, last_rejected_at, last_reason)
values ($source, $n, $at, $reason)
on conflict (source) do update
set rejected = webhook_rejections.rejected + excluded.rejected,
    last_rejected_at = greatest(webhook_rejections.last_rejected_at, excluded.last_rejected_at),
    last_reason = excluded.last_reason
