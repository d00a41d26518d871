-- The directory's tamper-evident log: each entry carries the hash of the one before.
CREATE TABLE directory_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX directory_log_subject ON directory_log (subject, seq);
