-- The agent's document-system API and web client: who may call it, document numbers, what
-- each copy it sent last looked like (to notify on a change), and the webhooks to deliver.
ALTER TABLE agent_sent ADD COLUMN source TEXT NOT NULL DEFAULT 'folder';
ALTER TABLE agent_sent ADD COLUMN doc_number TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_sent ADD COLUMN subject TEXT NOT NULL DEFAULT '';

ALTER TABLE agent_received ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_received ADD COLUMN urgency TEXT NOT NULL DEFAULT '';
-- 正本 or 副本, and whether the sender asked for immediate confirmation (1)
ALTER TABLE agent_received ADD COLUMN copy TEXT NOT NULL DEFAULT '';
ALTER TABLE agent_received ADD COLUMN confirm_now INTEGER NOT NULL DEFAULT 0;
-- JSON list of the file names in the inbox folder
ALTER TABLE agent_received ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
-- 簽收 or 退文: when, by whom, and for a return the reason code and text
ALTER TABLE agent_received ADD COLUMN handled_at INTEGER;
ALTER TABLE agent_received ADD COLUMN handled_by TEXT;
ALTER TABLE agent_received ADD COLUMN reason TEXT;
ALTER TABLE agent_received ADD COLUMN reason_text TEXT;
CREATE INDEX agent_received_list ON agent_received (agency, received_at);

-- API callers: a token (its SHA-256) or a client certificate (its key's SHA-256)
CREATE TABLE agent_clients (
    agency TEXT NOT NULL,
    name TEXT NOT NULL,
    -- token | cert
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agency, name)
);

-- 發文字號: the last serial taken per agency per ROC year; never reused
CREATE TABLE agent_numbers (
    agency TEXT NOT NULL,
    year INTEGER NOT NULL,
    last INTEGER NOT NULL,
    PRIMARY KEY (agency, year)
);

CREATE TABLE agent_copies (
    agency TEXT NOT NULL,
    package_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agency, package_id, recipient)
);

CREATE TABLE agent_webhooks (
    id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    done_at INTEGER,
    last_error TEXT
);
CREATE INDEX agent_webhooks_due ON agent_webhooks (done_at, next_at);
