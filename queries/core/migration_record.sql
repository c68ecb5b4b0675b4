-- Record one applied migration.
insert into schema_migrations values ($version, $applied_at)
