-- The newest DuckLake snapshot id of the attached lake `lake` (tower/store.py): every committed
-- write on any host makes one, so it is the lake's data version (tower.db Database.data_version).
select max(snapshot_id) from lake.snapshots();
