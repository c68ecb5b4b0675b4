-- Detach the snapshot file once copied.
detach tower_snapshot
