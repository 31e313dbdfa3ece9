-- The per-account sign-in throttle (dashboards/api signin_throttle.go,
-- sqlstore.RateLimiter), shared by every API replica on the database.
-- signin_throttle: one row per bucket (an e-mail address, or an e-mail
-- address with a client address known to it): attempts counted since the
-- last success, the time before which no password is checked, and when the
-- row is forgotten. signin_known: the client addresses an account signed in
-- from, until when. Buckets are HMAC-SHA256 under rate_limit_secret, never
-- an address in clear; times are Unix milliseconds.

-- +goose Up
CREATE TABLE signin_throttle (
    bucket   TEXT PRIMARY KEY,
    attempts BIGINT NOT NULL,
    next_at  BIGINT NOT NULL,
    expires  BIGINT NOT NULL
);
CREATE INDEX signin_throttle_expires ON signin_throttle(expires);

CREATE TABLE signin_known (
    bucket  TEXT PRIMARY KEY,
    expires BIGINT NOT NULL
);
CREATE INDEX signin_known_expires ON signin_known(expires);

-- +goose Down
DROP TABLE signin_known;
DROP TABLE signin_throttle;
