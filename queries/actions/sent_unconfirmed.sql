-- Actions sent before $cutoff whose confirmation has still not come back.
select action_id from actions where status = 'sent' and sent_at < $cutoff order by action_id
