-- 025_semantic_layer: which version of the semantic layer (queries/kpi/) this file's macros are, so a
-- process that opens the file and finds its own version there does not create them again
-- (tower.db.Database.install_layer).
-- semantic_layer: the semantic layer last installed whole in this database (one row; made by tower/db.py).
create table if not exists semantic_layer (
    id           integer primary key check (id = 1),  -- always 1: the table holds one row
    fingerprint  text not null,         -- hash of the layer's files and the DuckDB version that stored them
    installed_at timestamptz not null   -- when that layer was installed (UTC)
)
