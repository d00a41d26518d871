-- Sign-in failures are counted per card (the account a post claims) as well as per address:
-- the SHA-256 of the card's public key, when the post carried a valid signature.
ALTER TABLE agent_logins ADD COLUMN account TEXT;
CREATE INDEX agent_logins_account ON agent_logins (account, at);
