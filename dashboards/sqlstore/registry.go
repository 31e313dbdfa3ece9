package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// Site returns one site.
func (s *Store) Site(ctx context.Context, id string) (*civic.Site, error) {
	var st civic.Site
	var created int64
	err := s.row(ctx, s.db, `SELECT id, name, lat, lon, created FROM sites WHERE id = ?`, id).
		Scan(&st.ID, &st.Name, &st.Location.Lat, &st.Location.Lon, &created)
	if err != nil {
		return nil, notFound(err, "site")
	}
	st.Created = fromMS(created)
	return &st, nil
}

// UpdateSite changes a site's name and place (audited).
func (s *Store) UpdateSite(ctx context.Context, site *civic.Site, actor string) error {
	if err := site.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE sites SET name = ?, lat = ?, lon = ? WHERE id = ?`,
			site.Name, site.Location.Lat, site.Location.Lon, site.ID)
		if err != nil {
			return fmt.Errorf("update site: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "site not found")
		}
		return s.audit(ctx, tx, actor, "site.update", site.ID, "")
	})
}

// UpdateDevice changes a device's site, kind, model and quantities
// (audited); its credentials, status and last-seen time stay.
func (s *Store) UpdateDevice(ctx context.Context, d *civic.Device, actor string) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if d.Quantities == nil {
		d.Quantities = []civic.DeviceQuantity{}
	}
	qs, err := json.Marshal(d.Quantities)
	if err != nil {
		return fmt.Errorf("encode quantities: %w", err)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE devices SET site_id = ?, kind = ?, model = ?, quantities = ? WHERE id = ?`,
			d.SiteID, string(d.Kind), d.Model, string(qs), d.ID)
		switch {
		case isForeignKey(err):
			return civic.FieldError("site_id", "unknown site")
		case err != nil:
			return fmt.Errorf("update device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "device not found")
		}
		return s.audit(ctx, tx, actor, "device.update", d.ID, "")
	})
}

// RevokeDeviceCredentials removes a device's MQTT user and hash (audited).
func (s *Store) RevokeDeviceCredentials(ctx context.Context, id, actor string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE devices SET mqtt_user = '', mqtt_hash = '' WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("revoke credentials: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "device not found")
		}
		return s.audit(ctx, tx, actor, "device.credentials.revoke", id, "")
	})
}

// DeviceHashes returns the MQTT password hash of every provisioned device,
// by device id (the embedded broker's accounts).
func (s *Store) DeviceHashes(ctx context.Context) (map[string]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, mqtt_hash FROM devices WHERE mqtt_user <> '' AND mqtt_hash <> ''`)
	if err != nil {
		return nil, fmt.Errorf("device hashes: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("scan device hash: %w", err)
		}
		out[id] = h
	}
	return out, rows.Err()
}
