-- set_engine_setting: one of DuckDB's resource limits ({setting}: memory_limit, temp_directory,
-- max_temp_directory_size or threads, from tower.db.ENGINE_SETTINGS, never user text) to $value.
set {setting} = $value
