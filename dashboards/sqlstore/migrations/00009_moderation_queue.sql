-- The moderation queue (civic/flag.go): citizens' flags of public proposals
-- and approved comments, and the history of moderation decisions.
--
-- content_flags: one row per person and item (the unique index), open until
-- a decision closes it (resolved). proposal_id is the proposal of the item
-- (itself, or a comment's), so that the flags go with a deleted proposal;
-- a flagger's erased account takes its flags with it.
--
-- moderation_decisions: every moderation step (approve, keep, refuse) with
-- the reason and note of a refusal and the number of open flags it closed,
-- written in the transaction of the step. A refusal also queues the mail
-- to the author (mail_outbox kind 'moderation', detail = the decision id).

--
-- users.blocked: when an administrator blocked the account (NULL: not
-- blocked), and why (civic/people.go). A blocked account cannot sign in,
-- its sessions are deleted and any left are refused.

--
-- campaign_themes: the themes of a campaign when it has its own (the GREEN
-- Deal after the SMART Deal); a campaign without rows takes every theme.

--
-- realization_updates: the realization of a selected proposal, update by
-- update (civic/realization.go): a text, optionally a milestone with its
-- date, the progress (0-100 %) and the actual cost so far. Each update
-- queues a mail (mail_outbox kind 'realization', detail = the update id)
-- to the author and supporters who opted in to status e-mails.

-- +goose Up
CREATE TABLE realization_updates (
    id              TEXT PRIMARY KEY,
    proposal_id     TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    author_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    body            TEXT NOT NULL,
    milestone       TEXT NOT NULL DEFAULT '',
    milestone_date  BIGINT,
    progress        INTEGER,
    actual_cost_eur BIGINT,
    created         BIGINT NOT NULL
);
CREATE INDEX realization_updates_proposal ON realization_updates(proposal_id, created);
CREATE TABLE campaign_themes (
    campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    theme_id    TEXT NOT NULL REFERENCES themes(id),
    PRIMARY KEY (campaign_id, theme_id)
);
ALTER TABLE users ADD COLUMN blocked BIGINT;
ALTER TABLE users ADD COLUMN blocked_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_actor ON audit(actor, at);
CREATE INDEX comments_status ON comments(status, created);
CREATE INDEX proposals_status ON proposals(status, created);
CREATE TABLE content_flags (
    id          TEXT PRIMARY KEY,
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    reason_code TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created     BIGINT NOT NULL,
    resolved    BIGINT
);
CREATE UNIQUE INDEX content_flags_once ON content_flags(target_kind, target_id, user_id);
CREATE INDEX content_flags_target ON content_flags(target_kind, target_id, resolved);
CREATE INDEX content_flags_user ON content_flags(user_id);

CREATE TABLE moderation_decisions (
    id          TEXT PRIMARY KEY,
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    actor_id    TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason_code TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    flags       INTEGER NOT NULL DEFAULT 0,
    at          BIGINT NOT NULL
);
CREATE INDEX moderation_decisions_at ON moderation_decisions(at);

-- +goose Down
DELETE FROM mail_outbox WHERE kind IN ('moderation', 'realization');
DROP TABLE realization_updates;
DROP TABLE moderation_decisions;
DROP TABLE content_flags;
DROP INDEX audit_actor;
DROP INDEX comments_status;
DROP INDEX proposals_status;
DROP TABLE campaign_themes;
ALTER TABLE users DROP COLUMN blocked_reason;
ALTER TABLE users DROP COLUMN blocked;
