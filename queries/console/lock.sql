-- Run by the SQL console's child process right after it opens the snapshot, before any user SQL:
-- times in UTC like the app, then no setting can change any more (external access is already off).
set timezone = 'UTC';
set lock_configuration = true;
