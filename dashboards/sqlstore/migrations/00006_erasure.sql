-- Account erasure keeps the public record right without the person
-- (Store.DeleteUser, docs/api.md "Erasure"):
--
-- * proposals.erased_votes counts the supports of erased accounts on
--   proposals whose voting had closed when the account was erased: the vote
--   rows (which name the voter) are deleted, the count that decisions were
--   taken on stays. A proposal's vote count is COUNT(votes) + erased_votes.
-- * reviews.expert_id becomes nullable (ON DELETE SET NULL, like the authors
--   of proposals and comments), so that an erased expert's scores stay with
--   the proposal they informed, without the expert. The primary key
--   (proposal_id, expert_id) becomes a UNIQUE constraint (NULLs are distinct
--   in both databases), which PutReview's ON CONFLICT still targets. SQLite
--   cannot alter a column, so the table is rebuilt (portable on both).

-- +goose Up
ALTER TABLE proposals ADD COLUMN erased_votes BIGINT NOT NULL DEFAULT 0;

CREATE TABLE reviews_v6 (
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    expert_id   TEXT REFERENCES users(id) ON DELETE SET NULL,
    impact      INTEGER NOT NULL,
    feasibility INTEGER NOT NULL,
    cost        INTEGER NOT NULL,
    comment     TEXT NOT NULL,
    created     BIGINT NOT NULL,
    UNIQUE (proposal_id, expert_id)
);
INSERT INTO reviews_v6 (proposal_id, expert_id, impact, feasibility, cost, comment, created)
    SELECT proposal_id, expert_id, impact, feasibility, cost, comment, created FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_v6 RENAME TO reviews;

-- +goose Down
CREATE TABLE reviews_v5 (
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    expert_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    impact      INTEGER NOT NULL,
    feasibility INTEGER NOT NULL,
    cost        INTEGER NOT NULL,
    comment     TEXT NOT NULL,
    created     BIGINT NOT NULL,
    PRIMARY KEY (proposal_id, expert_id)
);
INSERT INTO reviews_v5 (proposal_id, expert_id, impact, feasibility, cost, comment, created)
    SELECT proposal_id, expert_id, impact, feasibility, cost, comment, created FROM reviews WHERE expert_id IS NOT NULL;
DROP TABLE reviews;
ALTER TABLE reviews_v5 RENAME TO reviews;
ALTER TABLE proposals DROP COLUMN erased_votes;
