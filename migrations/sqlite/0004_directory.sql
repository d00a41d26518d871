-- The directory's registry: centers, participants with their keys and addresses, shared
-- groups, and the signed snapshots built from them. Every change is also a directory_log entry.
CREATE TABLE dir_centers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- shared | self_managed | self_built
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    -- SHA-256 (hex) of its TLS client key
    tls_key TEXT,
    operator TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE dir_participants (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- name folded for search (臺/台, full/half width)
    name_folded TEXT NOT NULL,
    -- agency | school | public_enterprise | organisation | company
    kind TEXT NOT NULL,
    ubn TEXT,
    -- the competent authority's code (審核機關)
    authority TEXT,
    center TEXT NOT NULL,
    receive INTEGER NOT NULL,
    send INTEGER NOT NULL,
    -- active | suspended | terminated | cancelled
    state TEXT NOT NULL,
    state_reason TEXT,
    operator INTEGER NOT NULL DEFAULT 0,
    contact_name TEXT,
    contact_phone TEXT,
    contact_email TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX dir_participants_folded ON dir_participants (name_folded);
CREATE INDEX dir_participants_authority ON dir_participants (authority);

CREATE TABLE dir_certs (
    spki_sha256 TEXT PRIMARY KEY,
    code TEXT NOT NULL REFERENCES dir_participants(code) ON DELETE CASCADE,
    -- tls | signing | encryption
    usage TEXT NOT NULL,
    not_after INTEGER NOT NULL,
    cert BLOB NOT NULL
);
CREATE INDEX dir_certs_code ON dir_certs (code);

CREATE TABLE dir_ips (
    code TEXT NOT NULL REFERENCES dir_participants(code) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    approved_by TEXT,
    PRIMARY KEY (code, ip)
);

CREATE TABLE dir_group_members (
    name TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (name, member)
);

CREATE TABLE dir_snapshots (
    version INTEGER PRIMARY KEY,
    issued_at INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    log_seq INTEGER NOT NULL,
    -- the signed snapshot (CMS SignedData, DER)
    body BLOB NOT NULL
);

-- The center's copy of the newest snapshot it accepted (one row), so it keeps working when
-- the directory cannot be reached and never goes back to an older version.
CREATE TABLE center_snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL,
    body BLOB NOT NULL
);

-- A participant's entry as the snapshot last gave it (NULL: registered by hand).
ALTER TABLE participants ADD COLUMN snapshot_digest TEXT;
