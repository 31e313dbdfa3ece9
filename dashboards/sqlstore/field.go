package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// CreateSite registers a site.
func (s *Store) CreateSite(ctx context.Context, site *civic.Site) error {
	if err := site.Validate(); err != nil {
		return err
	}
	site.Created = time.Now().UTC()
	_, err := s.exec(ctx, s.db, `INSERT INTO sites (id, name, lat, lon, created) VALUES (?, ?, ?, ?, ?)`,
		site.ID, site.Name, site.Location.Lat, site.Location.Lon, ms(site.Created))
	if isUnique(err) {
		return civic.Errorf(civic.ECONFLICT, "site %s exists", site.ID)
	}
	if err != nil {
		return fmt.Errorf("insert site: %w", err)
	}
	return nil
}

// Sites lists every site.
func (s *Store) Sites(ctx context.Context) ([]*civic.Site, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, name, lat, lon, created FROM sites ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sites: %w", err)
	}
	defer rows.Close()
	out := []*civic.Site{}
	for rows.Next() {
		var st civic.Site
		var created int64
		if err := rows.Scan(&st.ID, &st.Name, &st.Location.Lat, &st.Location.Lon, &created); err != nil {
			return nil, fmt.Errorf("scan site: %w", err)
		}
		st.Created = fromMS(created)
		out = append(out, &st)
	}
	return out, rows.Err()
}

const deviceCols = `id, site_id, kind, model, quantities, mqtt_user, last_seen, status, created`

func scanDevice(r interface{ Scan(...any) error }) (*civic.Device, error) {
	var d civic.Device
	var kind, qs string
	var last sql.NullInt64
	var created int64
	if err := r.Scan(&d.ID, &d.SiteID, &kind, &d.Model, &qs, &d.MQTTUser, &last, &d.Status, &created); err != nil {
		return nil, err
	}
	d.Kind, d.LastSeen, d.Created = civic.DeviceKind(kind), fromNullMS(last), fromMS(created)
	if err := json.Unmarshal([]byte(qs), &d.Quantities); err != nil {
		return nil, fmt.Errorf("device %s quantities: %w", d.ID, err)
	}
	return &d, nil
}

// CreateDevice registers a device at an existing site.
func (s *Store) CreateDevice(ctx context.Context, d *civic.Device) error {
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
	d.Created = time.Now().UTC()
	_, err = s.exec(ctx, s.db, `INSERT INTO devices (id, site_id, kind, model, quantities, mqtt_user, mqtt_hash, status, created)
		VALUES (?, ?, ?, ?, ?, '', '', ?, ?)`, d.ID, d.SiteID, string(d.Kind), d.Model, string(qs), d.Status, ms(d.Created))
	switch {
	case isUnique(err):
		return civic.Errorf(civic.ECONFLICT, "device %s exists", d.ID)
	case isForeignKey(err):
		return civic.FieldError("site_id", "unknown site")
	case err != nil:
		return fmt.Errorf("insert device: %w", err)
	}
	return nil
}

// Device returns one device.
func (s *Store) Device(ctx context.Context, id string) (*civic.Device, error) {
	d, err := scanDevice(s.row(ctx, s.db, `SELECT `+deviceCols+` FROM devices WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "device")
	}
	return d, nil
}

// Devices lists the devices of a site, or all with siteID "".
func (s *Store) Devices(ctx context.Context, siteID string) ([]*civic.Device, error) {
	q, args := `SELECT `+deviceCols+` FROM devices`, []any{}
	if siteID != "" {
		q, args = q+` WHERE site_id = ?`, append(args, siteID)
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("devices: %w", err)
	}
	defer rows.Close()
	out := []*civic.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("scan device: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetDeviceCredentials stores a device's MQTT user and password hash.
func (s *Store) SetDeviceCredentials(ctx context.Context, id, user, hash, actor string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE devices SET mqtt_user = ?, mqtt_hash = ? WHERE id = ?`, user, hash, id)
		if err != nil {
			return fmt.Errorf("set credentials: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "device not found")
		}
		return s.audit(ctx, tx, actor, "device.credentials", id, user)
	})
}

// DeviceCredentialLines returns the stored "user:hash" lines of every
// provisioned device, the body of a Mosquitto password file.
func (s *Store) DeviceCredentialLines(ctx context.Context) ([]string, error) {
	rows, err := s.query(ctx, s.db, `SELECT mqtt_user, mqtt_hash FROM devices WHERE mqtt_user <> '' ORDER BY mqtt_user`)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u, h string
		if err := rows.Scan(&u, &h); err != nil {
			return nil, fmt.Errorf("scan credentials: %w", err)
		}
		out = append(out, u+":"+h)
	}
	return out, rows.Err()
}

const missionCols = `id, title, kind, area, planned_from, planned_to, agent_id, site_id, drone_id, status, started, ended, created`

func scanMission(r interface{ Scan(...any) error }) (*civic.Mission, error) {
	var m civic.Mission
	var area, status string
	var from, to, created int64
	var started, ended sql.NullInt64
	if err := r.Scan(&m.ID, &m.Title, &m.Kind, &area, &from, &to, &m.AgentID, &m.SiteID, &m.DroneID, &status, &started, &ended, &created); err != nil {
		return nil, err
	}
	m.Area, m.Status = json.RawMessage(area), civic.MissionStatus(status)
	m.PlannedFrom, m.PlannedTo, m.Created = fromMS(from), fromMS(to), fromMS(created)
	m.Started, m.Ended = fromNullMS(started), fromNullMS(ended)
	return &m, nil
}

// CreateMission stores a planned mission and its linked proposals. The drone
// must be a registered drone of the mission's site and the agent an agent
// (civic.Mission.CheckCrew decides on them as stored).
func (s *Store) CreateMission(ctx context.Context, m *civic.Mission) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = civic.NewID()
	}
	m.Status, m.Created = civic.MissionPlanned, time.Now().UTC()
	if m.ProposalIDs == nil {
		m.ProposalIDs = []string{}
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		// The crew as stored (nil: unknown), for civic's rule (Mission.CheckCrew).
		var drone *civic.Device
		var kind, site string
		switch err := s.row(ctx, tx, `SELECT kind, site_id FROM devices WHERE id = ?`, m.DroneID).Scan(&kind, &site); {
		case err == nil:
			drone = &civic.Device{ID: m.DroneID, Kind: civic.DeviceKind(kind), SiteID: site}
		case err != sql.ErrNoRows:
			return fmt.Errorf("check drone: %w", err)
		}
		var agent *civic.User
		var role string
		switch err := s.row(ctx, tx, `SELECT role FROM users WHERE id = ?`, m.AgentID).Scan(&role); {
		case err == nil:
			agent = &civic.User{ID: m.AgentID, Role: civic.Role(role)}
		case err != sql.ErrNoRows:
			return fmt.Errorf("check agent: %w", err)
		}
		if err := m.CheckCrew(drone, agent); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `INSERT INTO missions (`+missionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)`,
			m.ID, m.Title, m.Kind, string(m.Area), ms(m.PlannedFrom), ms(m.PlannedTo), m.AgentID, m.SiteID, m.DroneID,
			string(m.Status), ms(m.Created))
		if isUnique(err) {
			return civic.Errorf(civic.ECONFLICT, "mission %s exists", m.ID)
		}
		if err != nil {
			return fmt.Errorf("insert mission: %w", err)
		}
		for _, pid := range m.ProposalIDs {
			_, err := s.exec(ctx, tx, `INSERT INTO mission_proposals (mission_id, proposal_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, m.ID, pid)
			if isForeignKey(err) {
				return civic.FieldError("proposal_ids", "unknown proposal %q", pid)
			}
			if err != nil {
				return fmt.Errorf("link proposal: %w", err)
			}
		}
		return nil
	})
}

// Mission returns one mission with its linked proposals.
func (s *Store) Mission(ctx context.Context, id string) (*civic.Mission, error) {
	m, err := scanMission(s.row(ctx, s.db, `SELECT `+missionCols+` FROM missions WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "mission")
	}
	rows, err := s.query(ctx, s.db, `SELECT proposal_id FROM mission_proposals WHERE mission_id = ? ORDER BY proposal_id`, id)
	if err != nil {
		return nil, fmt.Errorf("mission proposals: %w", err)
	}
	defer rows.Close()
	m.ProposalIDs = []string{}
	for rows.Next() {
		var pid string
		if err := rows.Scan(&pid); err != nil {
			return nil, fmt.Errorf("scan mission proposal: %w", err)
		}
		m.ProposalIDs = append(m.ProposalIDs, pid)
	}
	return m, rows.Err()
}

// Missions lists missions, newest planned first, each with its linked
// proposals (one more query for all of them).
func (s *Store) Missions(ctx context.Context) ([]*civic.Mission, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+missionCols+` FROM missions ORDER BY planned_from DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("missions: %w", err)
	}
	defer rows.Close()
	out := []*civic.Mission{}
	byID := map[string]*civic.Mission{}
	for rows.Next() {
		m, err := scanMission(rows)
		if err != nil {
			return nil, fmt.Errorf("scan mission: %w", err)
		}
		m.ProposalIDs = []string{}
		byID[m.ID] = m
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("missions: %w", err)
	}
	links, err := s.query(ctx, s.db, `SELECT mission_id, proposal_id FROM mission_proposals ORDER BY mission_id, proposal_id`)
	if err != nil {
		return nil, fmt.Errorf("mission proposals: %w", err)
	}
	defer links.Close()
	for links.Next() {
		var mid, pid string
		if err := links.Scan(&mid, &pid); err != nil {
			return nil, fmt.Errorf("scan mission proposal: %w", err)
		}
		if m := byID[mid]; m != nil {
			m.ProposalIDs = append(m.ProposalIDs, pid)
		}
	}
	return out, links.Err()
}

// SetMissionStatus moves a mission (planned → active → completed | aborted),
// stamping started and ended.
func (s *Store) SetMissionStatus(ctx context.Context, id string, to civic.MissionStatus, actor string, now time.Time) (*civic.Mission, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		m, err := scanMission(s.row(ctx, tx, `SELECT `+missionCols+` FROM missions WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "mission")
		}
		if err := civic.CheckMissionTransition(m.Status, to); err != nil {
			return err
		}
		if to == civic.MissionActive { // the count civic.CheckMissionStart needs
			var n int
			if err := s.row(ctx, tx, `SELECT COUNT(*) FROM missions WHERE drone_id = ? AND status = ?`, m.DroneID, string(civic.MissionActive)).Scan(&n); err != nil {
				return fmt.Errorf("active missions: %w", err)
			}
			if err := civic.CheckMissionStart(m, to, n); err != nil {
				return err
			}
		}
		col := "ended"
		if to == civic.MissionActive {
			col = "started"
		}
		res, err := s.exec(ctx, tx, `UPDATE missions SET status = ?, `+col+` = ? WHERE id = ? AND status = ?`,
			string(to), ms(now), id, string(m.Status))
		if err != nil {
			return fmt.Errorf("update mission: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ECONFLICT, "the mission changed meanwhile; reload and retry")
		}
		return s.audit(ctx, tx, actor, "mission.status", id, string(m.Status)+"->"+string(to))
	})
	if err != nil {
		return nil, err
	}
	return s.Mission(ctx, id)
}

// CreateLink ties a proposal or mission to a series.
func (s *Store) CreateLink(ctx context.Context, l *civic.Link) error {
	if err := l.Validate(); err != nil {
		return err
	}
	l.ID, l.Created = civic.NewID(), time.Now().UTC()
	var pid, mid sql.NullString
	if l.ProposalID != "" {
		pid = sql.NullString{String: l.ProposalID, Valid: true}
	}
	if l.MissionID != "" {
		mid = sql.NullString{String: l.MissionID, Valid: true}
	}
	_, err := s.exec(ctx, s.db, `INSERT INTO links (id, proposal_id, mission_id, site_id, device_id, quantity, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		l.ID, pid, mid, l.SiteID, l.DeviceID, l.Quantity, ms(l.Created))
	if isForeignKey(err) {
		return civic.FieldError("proposal_id", "unknown proposal or mission")
	}
	if err != nil {
		return fmt.Errorf("insert link: %w", err)
	}
	return nil
}

// Links lists links by owner.
func (s *Store) Links(ctx context.Context, f civic.LinkFilter) ([]*civic.Link, error) {
	q, args := `SELECT id, proposal_id, mission_id, site_id, device_id, quantity, created FROM links WHERE 1 = 1`, []any{}
	if f.ProposalID != "" {
		q, args = q+` AND proposal_id = ?`, append(args, f.ProposalID)
	}
	if f.MissionID != "" {
		q, args = q+` AND mission_id = ?`, append(args, f.MissionID)
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY created, id LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	defer rows.Close()
	out := []*civic.Link{}
	for rows.Next() {
		var l civic.Link
		var pid, mid sql.NullString
		var created int64
		if err := rows.Scan(&l.ID, &pid, &mid, &l.SiteID, &l.DeviceID, &l.Quantity, &created); err != nil {
			return nil, fmt.Errorf("scan link: %w", err)
		}
		l.ProposalID, l.MissionID, l.Created = pid.String, mid.String, fromMS(created)
		out = append(out, &l)
	}
	return out, rows.Err()
}

// DeleteLink removes a link.
func (s *Store) DeleteLink(ctx context.Context, id string) error {
	res, err := s.exec(ctx, s.db, `DELETE FROM links WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete link: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return civic.Errorf(civic.ENOTFOUND, "link not found")
	}
	return nil
}
