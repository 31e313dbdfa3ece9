-- The citizen's e-mail about their proposals (dashboards/api notify.go):
-- consent per user (opt-in, off until set; the *_since columns say when it
-- was given and are NULL while it is not), the outbox of status mails (one
-- row per person and status change, sent after the change is committed and
-- retried with backoff), and the HMAC key of the unsubscribe links, created
-- by the first replica that needs it. Rows of a deleted account go with it
-- (ON DELETE CASCADE).

-- +goose Up
CREATE TABLE notification_prefs (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    own_since       BIGINT,
    supported_since BIGINT,
    updated         BIGINT NOT NULL
);

-- A proposal reaches each status at most once (the workflow has no cycle),
-- so (proposal, status, person) names one mail: queuing twice is a no-op.
CREATE TABLE status_mail_outbox (
    proposal_id  TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    to_status    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason       TEXT NOT NULL DEFAULT '',
    created      BIGINT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (proposal_id, to_status, user_id)
);
CREATE INDEX status_mail_outbox_due ON status_mail_outbox(next_attempt);
CREATE INDEX status_mail_outbox_user ON status_mail_outbox(user_id);

CREATE TABLE unsubscribe_secret (
    id     INTEGER PRIMARY KEY,
    secret TEXT NOT NULL
);

-- +goose Down
DROP TABLE unsubscribe_secret;
DROP TABLE status_mail_outbox;
DROP TABLE notification_prefs;
