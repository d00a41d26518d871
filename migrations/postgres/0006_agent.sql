-- The agent's memory of what it sent and received, so a restart neither loses nor repeats:
-- a sealed package keeps its Idempotency-Key until the center has it; a received package is
-- written to the inbox once.
CREATE TABLE agent_sent (
    agency TEXT NOT NULL,
    -- the set's name (the DI's file name without .di)
    name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    package_id TEXT NOT NULL,
    -- sealed | submitted | refused
    state TEXT NOT NULL,
    detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (agency, name)
);

CREATE TABLE agent_received (
    agency TEXT NOT NULL,
    package_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    doc_number TEXT NOT NULL,
    -- delivered | returned
    state TEXT NOT NULL,
    -- the inbox folder it was written to, or why it was returned
    detail TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (agency, package_id)
);
