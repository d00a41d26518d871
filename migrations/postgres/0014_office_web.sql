-- The office's pages (crates/office, web): sign-in with each person's own card. The same
-- shapes as the web client's tables (gongwen_web::signin), owned by a person.

-- A challenge signed with the person's card, used once, within 5 minutes.
CREATE TABLE office_challenges (
    nonce TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE office_sessions (
    id_sha256 TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    -- who signed in, as shown: the person's name and title
    user_name TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);

-- Every sign-in, successful or not.
CREATE TABLE office_logins (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    person TEXT,
    ok BIGINT NOT NULL,
    subject TEXT,
    ip TEXT NOT NULL,
    user_agent TEXT,
    detail TEXT,
    account TEXT
);
CREATE INDEX office_logins_ip ON office_logins (ip, at);
CREATE INDEX office_logins_account ON office_logins (account, at);
