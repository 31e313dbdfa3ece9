package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// MaxDeviceStatusHistory is how many status transitions are kept per device
// (device_status_history, migration 00011): the oldest go as new ones come.
const MaxDeviceStatusHistory = 200

// SetDeviceStatus records a device's reported state ("online", "offline") and
// when it was reported; older reports than the stored one are ignored. A
// state other than the last one of the device's history is a transition,
// added to it (a report repeated by another replica adds nothing). One
// transaction: the device's row lock orders two replicas' reports, so the
// history follows the recorded state.
func (s *Store) SetDeviceStatus(ctx context.Context, id, status string, seen time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE devices SET status = ?, last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen <= ?)`,
			status, ms(seen), id, ms(seen))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errIgnored
		}
		res, err = s.exec(ctx, tx, `INSERT INTO device_status_history (device_id, at, status, recorded)
			SELECT CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT)
			WHERE CAST(? AS TEXT) <> COALESCE((SELECT status FROM device_status_history WHERE device_id = ? ORDER BY at DESC, recorded DESC LIMIT 1), '')
			ON CONFLICT DO NOTHING`, id, ms(seen), status, ms(time.Now()), status, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = s.exec(ctx, tx, `DELETE FROM device_status_history WHERE device_id = ? AND at < (
			SELECT at FROM device_status_history WHERE device_id = ? ORDER BY at DESC, recorded DESC LIMIT 1 OFFSET ?)`,
			id, id, MaxDeviceStatusHistory-1)
		return err
	})
	switch {
	case errors.Is(err, errIgnored):
		// Unknown device, or an older report than the recorded one.
		if _, err := s.Device(ctx, id); err != nil {
			return err
		}
		return nil
	case err != nil:
		return fmt.Errorf("device status: %w", err)
	}
	return nil
}

// errIgnored rolls back a status report that changed nothing.
var errIgnored = errors.New("status report ignored")

// DeviceStatusHistory is a device's status transitions, newest first, at
// most limit (1 to MaxDeviceStatusHistory; otherwise the maximum).
func (s *Store) DeviceStatusHistory(ctx context.Context, id string, limit int) ([]civic.DeviceStatusChange, error) {
	if limit <= 0 || limit > MaxDeviceStatusHistory {
		limit = MaxDeviceStatusHistory
	}
	rows, err := s.query(ctx, s.db, `SELECT status, at FROM device_status_history WHERE device_id = ? ORDER BY at DESC, recorded DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("device status history: %w", err)
	}
	defer rows.Close()
	out := []civic.DeviceStatusChange{}
	for rows.Next() {
		var c civic.DeviceStatusChange
		var at int64
		if err := rows.Scan(&c.Status, &at); err != nil {
			return nil, fmt.Errorf("scan status change: %w", err)
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
