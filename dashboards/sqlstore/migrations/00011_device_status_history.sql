-- The status history of each device: one row per transition (online,
-- offline) at the time the device reported it, the last
-- MaxDeviceStatusHistory (200) per device kept. recorded (when the row was
-- written) orders two transitions reported at the same time. Times are
-- Unix milliseconds. A device's history goes with it.

-- +goose Up
CREATE TABLE device_status_history (
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    at        BIGINT NOT NULL,
    status    TEXT NOT NULL,
    recorded  BIGINT NOT NULL,
    PRIMARY KEY (device_id, at, status)
);

-- +goose Down
DROP TABLE device_status_history;
