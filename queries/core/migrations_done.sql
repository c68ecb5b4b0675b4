-- Versions already applied.
select version from schema_migrations
