-- Events of a campaign (meetings with field actors, public events,
-- workshops), the proposals they discuss and the citizens registered.
-- Times are Unix milliseconds. A registration goes with its account
-- (erasure), a link with its proposal.

-- +goose Up
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    starts      BIGINT NOT NULL,
    ends        BIGINT NOT NULL,
    place       TEXT NOT NULL,
    lat         DOUBLE PRECISION,
    lon         DOUBLE PRECISION,
    online_url  TEXT NOT NULL,
    campaign_id TEXT REFERENCES campaigns(id),
    capacity    INTEGER NOT NULL,
    minutes     TEXT NOT NULL,
    created     BIGINT NOT NULL
);
CREATE INDEX events_starts ON events(starts);

CREATE TABLE event_proposals (
    event_id    TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, proposal_id)
);
CREATE INDEX event_proposals_proposal ON event_proposals(proposal_id);

CREATE TABLE event_registrations (
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created  BIGINT NOT NULL,
    PRIMARY KEY (event_id, user_id)
);

-- +goose Down
DROP TABLE event_registrations;
DROP TABLE event_proposals;
DROP TABLE events;
