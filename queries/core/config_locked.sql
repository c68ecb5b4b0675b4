-- Whether this DuckDB instance's settings are already locked (tower.db hardening done).
select current_setting('lock_configuration')
