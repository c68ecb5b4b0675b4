-- Make this connection's KPI macros read the raw facts over the whole window instead of the hourly
-- rollups ($raw = true), or go back to the rollups ($raw = false). See queries/kpi/_facts.sql.
set variable kpi_raw_only = $raw::boolean;
