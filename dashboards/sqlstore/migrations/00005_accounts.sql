-- Verified accounts and account security (docs/api.md, "Verified accounts"
-- and "Account security"): the verification state and assurance level of
-- each account, session ids and last use, single-use links (by hash only)
-- and the mail outbox.
--
-- Existing accounts: staff accounts (every role but citizen) are marked
-- verified, from their creation: an administrator created or promoted them,
-- which vouches for them more than a link would. Citizen accounts are left
-- unverified: they were created without any check, which is how votes could
-- be stuffed, so they confirm their address once (the pages offer a new link
-- in one click) before they support, propose or comment again. Their past
-- votes stay counted.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified BIGINT;
ALTER TABLE users ADD COLUMN assurance INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN assurance_by TEXT NOT NULL DEFAULT '';
UPDATE users SET email_verified = created WHERE role <> 'citizen';

-- A session's public id (listing and revoking never show the token or its
-- hash). Sessions opened before this migration get the first 16 hex digits
-- of their token's SHA-256 (their hash, not their token); new ones a random id.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_used BIGINT;
UPDATE sessions SET id = substr(token_hash, 1, 16);
CREATE UNIQUE INDEX sessions_id ON sessions(id);

-- Single-use links: verification, address change, password reset. Only the
-- SHA-256 of the token is stored; used is set when the link is followed.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created    BIGINT NOT NULL,
    expires    BIGINT NOT NULL,
    used       BIGINT
);
CREATE INDEX account_tokens_user ON account_tokens(user_id, purpose);
CREATE INDEX account_tokens_expires ON account_tokens(expires);

-- The mail outbox: one row per mail to send, written in the request that
-- causes it, sent (then deleted) by the background worker with retries and
-- backoff. A row holds no link: the worker creates the token when it sends.
CREATE TABLE mail_outbox (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    failed       BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt);

-- +goose Down
DROP TABLE mail_outbox;
DROP TABLE account_tokens;
DROP INDEX sessions_id;
ALTER TABLE sessions DROP COLUMN last_used;
ALTER TABLE sessions DROP COLUMN id;
ALTER TABLE users DROP COLUMN assurance_by;
ALTER TABLE users DROP COLUMN assurance;
ALTER TABLE users DROP COLUMN email_verified;
