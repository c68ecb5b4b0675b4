-- 017_actions_engine: what the execution engine learns while running an action (issue 13): the
-- vendor's own cost and ETA, and the manual procedure written when the vendor's API is down.
alter table actions add column if not exists vendor_cost double;          -- what the vendor said it costs (USD), when it said
alter table actions add column if not exists eta timestamptz;             -- when the vendor said its effect lands (goods arrive, transfer done)
alter table actions add column if not exists manual_document text;        -- the manual fallback's document (e.g. the PO as CSV) under data/actions/, when the API was down
alter table actions add column if not exists manual_message text;         -- the manual fallback's message to send to the vendor by hand (English and Chinese)
