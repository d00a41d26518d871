-- The directory's people (reviewers, auditors, administrators), connection applications with
-- their two reviews, and the notices people are sent. Every step is also a directory_log entry.
CREATE TABLE dir_accounts (
    name TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    -- first_reviewer | second_reviewer | auditor | admin
    role TEXT NOT NULL,
    -- first reviewers: the authority's code; second reviewers: the center's id
    scope TEXT,
    -- SHA-256 (hex) of the account's API token
    token_sha256 TEXT,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX dir_accounts_token ON dir_accounts (token_sha256);

CREATE TABLE dir_applications (
    id TEXT PRIMARY KEY,
    -- new | change | cancel
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    authority TEXT NOT NULL,
    center TEXT NOT NULL,
    -- submitted | first_approved | correction | activated | rejected
    state TEXT NOT NULL,
    -- who asked for the correction: first | second
    returned_by TEXT,
    -- the last reviewer's message (correction request or reason for rejection)
    message TEXT,
    -- the form as signed (JSON) and the signature (CMS SignedData, DER)
    form TEXT NOT NULL,
    signed BLOB NOT NULL,
    signer_spki TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX dir_applications_queue ON dir_applications (state, authority);
CREATE INDEX dir_applications_code ON dir_applications (code);

CREATE TABLE dir_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- a 機關代碼 (applicant, authority, participant)
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX dir_notices_recipient ON dir_notices (recipient, id);
