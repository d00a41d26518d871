-- The exchange center: participants, packages, copies, events (the records), groups, blobs.
-- Times are Unix milliseconds; flags are 0/1. Keep in step with ../postgres/0001_center.sql.

CREATE TABLE participants (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- active | suspended | terminated | cancelled
    state TEXT NOT NULL,
    state_reason TEXT,
    -- NULL: registered here; else the id of the center it lives at.
    center TEXT,
    webhook_url TEXT,
    -- HMAC key for webhook signatures.
    webhook_secret TEXT,
    operator INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE participant_keys (
    spki_sha256 TEXT PRIMARY KEY,
    code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
    -- tls | signing | encryption
    usage TEXT NOT NULL,
    not_after INTEGER NOT NULL,
    cert BLOB NOT NULL
);
CREATE INDEX participant_keys_code ON participant_keys(code);

CREATE TABLE participant_ips (
    code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    approved_by TEXT,
    note TEXT,
    PRIMARY KEY (code, ip)
);

CREATE TABLE groups (
    -- '' for the center's shared groups, else the owning participant.
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
);

CREATE TABLE group_members (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (owner, name, member),
    FOREIGN KEY (owner, name) REFERENCES groups(owner, name) ON DELETE CASCADE
);

CREATE TABLE packages (
    id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    subject TEXT NOT NULL,
    urgency TEXT NOT NULL,
    header_json TEXT NOT NULL,
    -- SHA-256 of the whole package file (the blob) and of its ciphertext (what receipts name).
    body_sha256 TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    body_size INTEGER NOT NULL,
    submitted_at INTEGER NOT NULL,
    idem_key TEXT NOT NULL,
    confirm_now INTEGER NOT NULL,
    resend_kind TEXT,
    resend_of TEXT,
    body_purged_at INTEGER,
    -- The center that relayed it here; NULL when submitted here.
    origin TEXT,
    UNIQUE (sender, idem_key)
);
CREATE INDEX packages_sender ON packages(sender, submitted_at);
CREATE INDEX packages_doc_number ON packages(doc_number);

CREATE TABLE copies (
    package_id TEXT NOT NULL REFERENCES packages(id),
    recipient TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    copy_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    status_at INTEGER NOT NULL,
    available_at INTEGER,
    delivered_at INTEGER,
    fail_reason TEXT,
    return_reason TEXT,
    return_text TEXT,
    receipt_number TEXT,
    PRIMARY KEY (package_id, recipient, unit)
);
CREATE INDEX copies_inbox ON copies(recipient, status, available_at);

CREATE TABLE group_expansions (
    package_id TEXT NOT NULL REFERENCES packages(id),
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    members TEXT NOT NULL,
    PRIMARY KEY (package_id, owner, name)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    package_id TEXT,
    recipient TEXT,
    doc_number TEXT,
    detail TEXT,
    receipt BLOB
);
CREATE INDEX events_at ON events(at);
CREATE INDEX events_package ON events(package_id);
CREATE INDEX events_actor ON events(actor, at);

CREATE TABLE calendar (
    day TEXT PRIMARY KEY,
    -- holiday | workday
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);

-- Durable work for other systems: relays to peer centers, statuses back to the origin,
-- webhooks. Claimed with a lease (and SKIP LOCKED on PostgreSQL), retried with back-off.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- relay | status | webhook
    kind TEXT NOT NULL,
    -- a peer center's id, or a participant's code for webhooks
    target TEXT NOT NULL,
    package_id TEXT,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    claimed_until INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox(next_at);
