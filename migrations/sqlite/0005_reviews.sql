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

-- Improvement notices (限期改善單) with the participant's answer, up to three follow-ups per
-- period (追蹤評估), approved extensions, and the termination date they may end in.
CREATE TABLE dir_improvements (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    -- Unix ms: the end of the deadline day, Asia/Taipei
    deadline INTEGER NOT NULL,
    -- open | improved | terminating | terminated | withdrawn
    state TEXT NOT NULL,
    answer TEXT,
    answered_at INTEGER,
    -- follow-ups allowed before termination (3, and 3 more with each extension)
    follow_ups_allowed INTEGER NOT NULL,
    -- the termination date (YYYY-MM-DD) and when service stops (18:00 the day before)
    terminate_on TEXT,
    stops_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX dir_improvements_code ON dir_improvements (code);

CREATE TABLE dir_follow_ups (
    improvement TEXT NOT NULL,
    n INTEGER NOT NULL,
    at INTEGER NOT NULL,
    assessor TEXT NOT NULL,
    improved INTEGER NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (improvement, n)
);

-- Why a participant is suspended, when the directory itself will lift or escalate it:
-- cert_expired | improvement | manual (NULL when active).
ALTER TABLE dir_participants ADD COLUMN suspended_for TEXT;
-- 0: left the address book (e.g. certificate expired more than the grace period ago).
ALTER TABLE dir_participants ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;

-- Reviewers' browser sessions: the cookie's hash, its CSRF token, and when it ends.
CREATE TABLE dir_sessions (
    id_sha256 TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
