-- Bench only: write the bulk-added rows into the database file (compressed, with statistics), as a
-- long-running database has them, before timing reads.
checkpoint;
