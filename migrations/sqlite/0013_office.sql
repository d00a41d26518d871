-- The agency's document-management system with online sign-off (crates/office).

-- Units in a tree: depth 0 is the agency itself, 1 a 一級單位, 2 a 二級單位.
CREATE TABLE office_units (
    id TEXT PRIMARY KEY,
    parent TEXT REFERENCES office_units(id),
    name TEXT NOT NULL,
    depth BIGINT NOT NULL,
    -- 0: the unit is not on online sign-off yet (a 會辦 with it turns the case to paper).
    online BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE office_people (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    unit TEXT NOT NULL REFERENCES office_units(id),
    -- SHA-256 (hex) of the SubjectPublicKeyInfo of the person's signing certificate.
    spki_sha256 TEXT UNIQUE
);

-- A person may hold several roles; desk and supervisor roles are per unit.
CREATE TABLE office_roles (
    person TEXT NOT NULL REFERENCES office_people(id),
    role TEXT NOT NULL,
    unit TEXT NOT NULL REFERENCES office_units(id),
    PRIMARY KEY (person, role, unit)
);

-- 職務代理人: `deputy` acts for `principal` from `first_day` to `last_day` (ISO dates, Taipei).
CREATE TABLE office_deputies (
    principal TEXT NOT NULL REFERENCES office_people(id),
    deputy TEXT NOT NULL REFERENCES office_people(id),
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    PRIMARY KEY (principal, deputy, first_day)
);

-- 分層負責明細表: each change kept with the day it takes effect.
CREATE TABLE office_delegation (
    matter TEXT NOT NULL,
    level BIGINT NOT NULL,
    effective_from TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (matter, effective_from)
);

CREATE TABLE office_cases (
    id TEXT PRIMARY KEY,
    origin TEXT NOT NULL,
    subject TEXT NOT NULL,
    matter TEXT NOT NULL,
    urgency TEXT NOT NULL,
    state TEXT NOT NULL,
    unit TEXT REFERENCES office_units(id),
    officer TEXT REFERENCES office_people(id),
    holder TEXT REFERENCES office_people(id),
    -- Exclusions (SIGNOFF.md, 1–8) that route the case to paper, comma-separated.
    exclusions TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    dispatch_number TEXT,
    file_code TEXT,
    retention TEXT,
    -- 收文字號 the agent gave when the case was signed for (簽收) at the exchange.
    receipt_number TEXT
);
-- The worklists: by state (待分文, 待發文, 待歸檔), by holder, by unit; oldest first.
CREATE INDEX office_cases_state ON office_cases (state, created_at, id);
CREATE INDEX office_cases_holder ON office_cases (holder, state, created_at);
CREATE INDEX office_cases_unit ON office_cases (unit, state, created_at);

-- Every version of every document of a case (the incoming document, each 簽 and 稿).
CREATE TABLE office_versions (
    case_id TEXT NOT NULL REFERENCES office_cases(id),
    doc TEXT NOT NULL,
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, doc, version)
);

-- The signed steps of a case, chained: each signed text names the digest of the step before.
CREATE TABLE office_steps (
    case_id TEXT NOT NULL REFERENCES office_cases(id),
    seq BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL REFERENCES office_people(id),
    principal TEXT REFERENCES office_people(id),
    signed BLOB NOT NULL,
    cms BLOB NOT NULL,
    cms_sha256 TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- The units a case is sent to for 會辦, in order; `opinion_seq` is the step that answered.
CREATE TABLE office_consults (
    case_id TEXT NOT NULL REFERENCES office_cases(id),
    position BIGINT NOT NULL,
    unit TEXT NOT NULL REFERENCES office_units(id),
    in_sequence BIGINT NOT NULL,
    opinion_seq BIGINT,
    PRIMARY KEY (case_id, position)
);
CREATE INDEX office_consults_open ON office_consults (unit, opinion_seq);

-- Documents the agent received for the agency, kept whole (DI, SW, attachments) until the
-- clerk registers them (待登記); `case_id` once registered.
CREATE TABLE office_intake (
    id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    sender_name TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    subject TEXT NOT NULL,
    urgency TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    fetched_at BIGINT NOT NULL,
    case_id TEXT REFERENCES office_cases(id),
    -- 退文 instead of registration: the reason as sent back, who and when.
    returned TEXT,
    returned_by TEXT REFERENCES office_people(id),
    returned_at BIGINT
);
CREATE INDEX office_intake_open ON office_intake (case_id, returned, received_at);

CREATE TABLE office_intake_files (
    intake TEXT NOT NULL REFERENCES office_intake(id),
    name TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (intake, name)
);

-- 「發」 drafts sent through the agent: the send's name (its Idempotency-Key), the package and
-- the 發文字號 the agent gave; `returned` once a copy came back (退文), with its reason.
CREATE TABLE office_dispatches (
    case_id TEXT NOT NULL REFERENCES office_cases(id),
    doc TEXT NOT NULL,
    name TEXT NOT NULL,
    package_id TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    returned TEXT,
    PRIMARY KEY (case_id, doc)
);

-- Serial numbers that restart each year (收文號).
CREATE TABLE office_counters (
    name TEXT NOT NULL,
    year BIGINT NOT NULL,
    next BIGINT NOT NULL,
    PRIMARY KEY (name, year)
);
