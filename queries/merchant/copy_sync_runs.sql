-- Merchant scope: when each source last ran and how (the freshness strip), without row counts
-- (platform volumes) or error text (may name other shops).
insert into sync_runs by name
select * replace (null::integer as rows_fetched, null::integer as rows_written,
                  null::integer as rows_rejected, null::text as error)
from src.sync_runs;
