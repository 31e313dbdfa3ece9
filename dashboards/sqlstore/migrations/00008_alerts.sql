-- Alert rules, their evaluation state, alerts and their transitions, the
-- notifications to deliver (retained MQTT messages, webhooks, e-mail), and
-- who is subscribed to a rule or a site (dashboards/alerting,
-- docs/alerts.md). Times are Unix milliseconds.

-- +goose Up
CREATE TABLE alert_rules (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    site       TEXT NOT NULL DEFAULT '',
    device     TEXT NOT NULL DEFAULT '',
    quantity   TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    hold_ms    BIGINT NOT NULL DEFAULT 0,
    window_ms  BIGINT NOT NULL DEFAULT 0,
    levels     TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created    BIGINT NOT NULL,
    updated    BIGINT NOT NULL
);

-- One row per rule × series × level: the evaluation state (alerting.State
-- as JSON) any replica takes the next sample from. version is the
-- compare-and-set guard: a write names the version it read.
CREATE TABLE alert_states (
    rule_id  TEXT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    series   TEXT NOT NULL,
    level    INTEGER NOT NULL,
    state    TEXT NOT NULL,
    version  BIGINT NOT NULL,
    updated  BIGINT NOT NULL,
    PRIMARY KEY (rule_id, series, level)
);

-- Alerts outlive their rule (rule_id is not a foreign key; rule_name keeps
-- what it was called).
CREATE TABLE alerts (
    id            TEXT PRIMARY KEY,
    rule_id       TEXT NOT NULL,
    rule_name     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    severity      TEXT NOT NULL,
    level         INTEGER NOT NULL,
    series        TEXT NOT NULL,
    site          TEXT NOT NULL,
    device        TEXT NOT NULL,
    quantity      TEXT NOT NULL,
    unit          TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    open          INTEGER,
    threshold     DOUBLE PRECISION NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    peak          DOUBLE PRECISION NOT NULL,
    from_t        BIGINT NOT NULL,
    fired_at      BIGINT NOT NULL,
    recorded      BIGINT NOT NULL,
    past          INTEGER NOT NULL,
    ack_by        TEXT NOT NULL DEFAULT '',
    ack_at        BIGINT,
    ack_comment   TEXT NOT NULL DEFAULT '',
    condition_end BIGINT,
    cleared_at    BIGINT,
    closed_at     BIGINT,
    closed_by     TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL
);
-- The last guard against a double firing: at most one open alert (open = 1
-- until it clears, then NULL) per rule × series × level, whatever replica
-- inserts it. A plain unique index over a nullable column: both engines let
-- NULLs repeat.
CREATE UNIQUE INDEX alerts_open ON alerts(rule_id, series, level, open);
CREATE INDEX alerts_fired ON alerts(fired_at);
CREATE INDEX alerts_site ON alerts(site, fired_at);

CREATE TABLE alert_transitions (
    alert_id   TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    at         BIGINT NOT NULL,
    by_whom    TEXT NOT NULL,
    comment    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert_id, seq)
);

-- Notifications to deliver, written in the transaction of the change that
-- causes them: channel mqtt (target: the topic), webhook (target: the URL)
-- or mail (target: the address). A row is delivered (delivered set) or,
-- after the last attempt, dead (the dead letter, kept with its last error).
-- Rows of one channel and target go out in seq order. grp is set while a
-- mail row still takes more alerts of its rule (storm grouping): one such
-- row per rule and address.
CREATE TABLE alert_deliveries (
    id           TEXT PRIMARY KEY,
    seq          BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    target       TEXT NOT NULL,
    rule_id      TEXT NOT NULL DEFAULT '',
    alert_ids    TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL,
    grp          TEXT UNIQUE,
    created      BIGINT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt BIGINT NOT NULL,
    last_error   TEXT NOT NULL DEFAULT '',
    delivered    BIGINT,
    dead         BIGINT
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(next_attempt);
CREATE INDEX alert_deliveries_target ON alert_deliveries(channel, target, seq);

-- Risk managers subscribed to a rule (rule_id) or to a site (site); one of
-- the two is set.
CREATE TABLE alert_subscriptions (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    rule_id TEXT NOT NULL DEFAULT '',
    site    TEXT NOT NULL DEFAULT '',
    created BIGINT NOT NULL,
    PRIMARY KEY (user_id, rule_id, site)
);

-- +goose Down
DROP TABLE alert_subscriptions;
DROP TABLE alert_deliveries;
DROP TABLE alert_transitions;
DROP TABLE alerts;
DROP TABLE alert_states;
DROP TABLE alert_rules;
