-- Drop the view naming the batch a current-state refresh just read (connectors/state_tables.py).
drop view if exists _state_batch;
