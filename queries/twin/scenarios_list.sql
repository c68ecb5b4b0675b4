-- Twin scenarios saved by users. Grain: one row per scenario. Columns: name, title, body (JSON),
-- saved_by, saved_at.
select name, title, body::varchar as body, saved_by, saved_at from twin_scenarios order by name
