-- The center's statistics (統計): per-day counters of the records, by Taipei day, so that a
-- month's dashboard reads a few thousand rows instead of the records of millions of copies.
-- A day is recomputed whole from its records (events, by their time index) in one
-- transaction; once its end is past by a margin and it was counted after that, it is final
-- and never read again. Keep in step with ../sqlite/0018_center_stats.sql.

CREATE TABLE center_stats_days (
    -- The Taipei day, YYYY-MM-DD.
    day TEXT PRIMARY KEY,
    -- 1: counted after the day was over; never recomputed.
    closed BIGINT NOT NULL,
    computed_at BIGINT NOT NULL
);

CREATE TABLE center_stats_daily (
    day TEXT NOT NULL,
    -- documents | accepted | available | relayed | delivered | confirmed_on_time |
    -- confirmed_late | returned | failed | dropped | refused | hour
    metric TEXT NOT NULL,
    -- The reason, cause, error code or hour (00–23); '' for plain counts.
    item TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, metric, item)
);
