-- $n fresh alert ids from the sequence, so state rows can point at alerts before they are written.
-- Grain: one row per id. Columns: the id. Params: $n.
select nextval('alert_id_seq') from range($n)
