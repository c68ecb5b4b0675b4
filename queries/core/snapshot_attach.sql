-- Attach the snapshot file being written (its path bound as $path).
attach $path as tower_snapshot
