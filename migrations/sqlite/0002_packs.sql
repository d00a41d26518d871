-- Sealed packages on the local filesystem are appended to pack files; this is where each is.
-- A row is written only once its bytes are on disk.
CREATE TABLE pack_blobs (
    sha256 TEXT PRIMARY KEY,
    pack TEXT NOT NULL,
    offset_bytes BIGINT NOT NULL,
    size BIGINT NOT NULL
);
CREATE INDEX pack_blobs_pack ON pack_blobs (pack);
