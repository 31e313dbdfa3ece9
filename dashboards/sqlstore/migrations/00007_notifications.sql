-- The citizen's e-mail about their proposals (dashboards/api notify.go):
-- consent per user (opt-in, off until set; the *_since columns say when it
-- was given and are NULL while it is not), and the HMAC key of the
-- unsubscribe links, created by the first replica that needs it. Rows of a
-- deleted account go with it (ON DELETE CASCADE, and DeleteUser deletes
-- them explicitly).
--
-- Status mails are a kind of the accounts' mail outbox (mail_outbox, kind
-- 'status'): one row per person and status change, whose id is
-- 'status:<proposal>:<status>:<user>' (a proposal reaches each status at
-- most once, so queuing a change twice adds nothing), with the proposal and
-- its new status in the columns below and the reason given with the change
-- in detail. The text is written when the mail is sent.

-- +goose Up
CREATE TABLE notification_prefs (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    own_since       BIGINT,
    supported_since BIGINT,
    updated         BIGINT NOT NULL
);

CREATE TABLE unsubscribe_secret (
    id     INTEGER PRIMARY KEY,
    secret TEXT NOT NULL
);

ALTER TABLE mail_outbox ADD COLUMN proposal_id TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_outbox ADD COLUMN proposal_status TEXT NOT NULL DEFAULT '';

-- +goose Down
DELETE FROM mail_outbox WHERE kind = 'status';
ALTER TABLE mail_outbox DROP COLUMN proposal_status;
ALTER TABLE mail_outbox DROP COLUMN proposal_id;
DROP TABLE unsubscribe_secret;
DROP TABLE notification_prefs;
