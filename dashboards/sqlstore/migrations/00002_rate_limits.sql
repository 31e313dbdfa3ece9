-- Rate-limit counters shared by every API replica on the same database
-- (dashboards/api RateLimiter, sqlstore.RateLimiter). One row per key and
-- fixed window; the count is bumped by one atomic upsert. Keys are
-- HMAC-SHA256 of "<limit>:<ip or user id>" under rate_limit_secret, never the
-- IP or id in clear, and rows are deleted shortly after their window ends.

-- +goose Up
CREATE TABLE rate_limits (
    bucket       TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    expires      BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_expires ON rate_limits(expires);

CREATE TABLE rate_limit_secret (
    id     INTEGER PRIMARY KEY,
    secret TEXT NOT NULL
);

-- +goose Down
DROP TABLE rate_limit_secret;
DROP TABLE rate_limits;
