-- The web client (WebjAgent): sign-in challenges, sessions and the record of every sign-in;
-- the 收文字號 given when a document is signed for.
ALTER TABLE agent_received ADD COLUMN receipt_number TEXT;
-- the sender's name as its document gives it (發文機關 全銜)
ALTER TABLE agent_received ADD COLUMN sender_name TEXT NOT NULL DEFAULT '';

-- A challenge to sign with the organisation's card, used once, within 5 minutes
CREATE TABLE agent_challenges (
    nonce TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);

CREATE TABLE agent_sessions (
    id_sha256 TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    -- who signed in: the certificate's subject name
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
);

-- Every sign-in, successful or not (kept as exchange records)
CREATE TABLE agent_logins (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    agency TEXT,
    ok INTEGER NOT NULL,
    subject TEXT,
    ip TEXT NOT NULL,
    user_agent TEXT,
    detail TEXT
);
CREATE INDEX agent_logins_ip ON agent_logins (ip, at);
