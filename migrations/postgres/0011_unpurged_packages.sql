-- The sweep looks for bodies to purge among the packages whose body is still here, oldest
-- first. Without this index it read every package ever received, purged or not, at every
-- sweep. Entries are added at the end (submission time grows) and leave at the purge.
CREATE INDEX IF NOT EXISTS packages_unpurged ON packages (submitted_at) WHERE body_purged_at IS NULL;
