-- The migrations ledger: one row per queries/schema file applied (tower.db.migrate).
create table if not exists schema_migrations (version text primary key, applied_at timestamptz)
