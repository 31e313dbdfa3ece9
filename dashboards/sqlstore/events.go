package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// MaxEvents bounds one listing of events.
const MaxEvents = 500

const eventCols = `e.id, e.kind, e.title, e.description, e.starts, e.ends, e.place, e.lat, e.lon, e.online_url,
	COALESCE(e.campaign_id, ''), e.capacity, e.minutes, e.created,
	(SELECT COUNT(*) FROM event_registrations r WHERE r.event_id = e.id)`

func scanEvent(r interface{ Scan(...any) error }) (*civic.Event, error) {
	var e civic.Event
	var kind string
	var starts, ends, created int64
	var lat, lon sql.NullFloat64
	if err := r.Scan(&e.ID, &kind, &e.Title, &e.Description, &starts, &ends, &e.Place, &lat, &lon, &e.OnlineURL,
		&e.CampaignID, &e.Capacity, &e.Minutes, &created, &e.Registered); err != nil {
		return nil, err
	}
	e.Kind, e.Starts, e.Ends, e.Created = civic.EventKind(kind), fromMS(starts), fromMS(ends), fromMS(created)
	if lat.Valid && lon.Valid {
		e.Location = &civic.Point{Lat: lat.Float64, Lon: lon.Float64}
	}
	return &e, nil
}

// CreateEvent stores an event and its proposal links (audited).
func (s *Store) CreateEvent(ctx context.Context, e *civic.Event, actor string) error {
	if e.ID == "" {
		e.ID = civic.NewID()
	}
	if err := e.Validate(); err != nil {
		return err
	}
	e.Created, e.Registered = time.Now().UTC(), 0
	var lat, lon any
	if e.Location != nil {
		lat, lon = e.Location.Lat, e.Location.Lon
	}
	var campaign any
	if e.CampaignID != "" {
		campaign = e.CampaignID
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `INSERT INTO events (id, kind, title, description, starts, ends, place, lat, lon, online_url, campaign_id, capacity, minutes, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, string(e.Kind), e.Title, e.Description, ms(e.Starts), ms(e.Ends),
			e.Place, lat, lon, e.OnlineURL, campaign, e.Capacity, e.Minutes, ms(e.Created))
		switch {
		case isUnique(err):
			return civic.Errorf(civic.ECONFLICT, "event %s exists", e.ID)
		case isForeignKey(err):
			return civic.FieldError("campaign_id", "unknown campaign")
		case err != nil:
			return fmt.Errorf("insert event: %w", err)
		}
		for _, p := range e.ProposalIDs {
			_, err := s.exec(ctx, tx, `INSERT INTO event_proposals (event_id, proposal_id) VALUES (?, ?)`, e.ID, p)
			switch {
			case isUnique(err):
				return civic.FieldError("proposal_ids", "listed twice")
			case isForeignKey(err):
				return civic.FieldError("proposal_ids", "unknown proposal")
			case err != nil:
				return fmt.Errorf("link event: %w", err)
			}
		}
		return s.audit(ctx, tx, actor, "event.create", e.ID, "")
	})
}

// proposalsOf fills the proposal ids of events (one query).
func (s *Store) proposalsOf(ctx context.Context, es []*civic.Event) error {
	if len(es) == 0 {
		return nil
	}
	by := map[string]*civic.Event{}
	args := make([]any, 0, len(es))
	q := `SELECT event_id, proposal_id FROM event_proposals WHERE event_id IN (`
	for i, e := range es {
		by[e.ID] = e
		if i > 0 {
			q += ", "
		}
		q += "?"
		args = append(args, e.ID)
	}
	rows, err := s.query(ctx, s.db, q+`) ORDER BY proposal_id`, args...)
	if err != nil {
		return fmt.Errorf("event proposals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ev, p string
		if err := rows.Scan(&ev, &p); err != nil {
			return fmt.Errorf("scan event proposal: %w", err)
		}
		by[ev].ProposalIDs = append(by[ev].ProposalIDs, p)
	}
	return rows.Err()
}

// Event returns one event with its proposal ids and registration count.
func (s *Store) Event(ctx context.Context, id string) (*civic.Event, error) {
	e, err := scanEvent(s.row(ctx, s.db, `SELECT `+eventCols+` FROM events e WHERE e.id = ?`, id))
	if err != nil {
		return nil, notFound(err, "event")
	}
	return e, s.proposalsOf(ctx, []*civic.Event{e})
}

// Events lists events by start time (at most MaxEvents): of a campaign,
// linked to a proposal, ending after a time (each optional: "", zero).
func (s *Store) Events(ctx context.Context, campaignID, proposalID string, endsAfter time.Time) ([]*civic.Event, error) {
	f := struct {
		CampaignID, ProposalID string
		EndsAfter              time.Time
	}{campaignID, proposalID, endsAfter}
	q, args := `SELECT `+eventCols+` FROM events e WHERE 1 = 1`, []any{}
	if f.CampaignID != "" {
		q, args = q+` AND e.campaign_id = ?`, append(args, f.CampaignID)
	}
	if f.ProposalID != "" {
		q, args = q+` AND e.id IN (SELECT event_id FROM event_proposals WHERE proposal_id = ?)`, append(args, f.ProposalID)
	}
	if !f.EndsAfter.IsZero() {
		q, args = q+` AND e.ends > ?`, append(args, ms(f.EndsAfter))
	}
	rows, err := s.query(ctx, s.db, q+fmt.Sprintf(` ORDER BY e.starts, e.id LIMIT %d`, MaxEvents), args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	out := []*civic.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan event: %w", err)
		}
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.proposalsOf(ctx, out)
}

// SetEventMinutes records an event's minutes or outcome (audited).
func (s *Store) SetEventMinutes(ctx context.Context, id, minutes, actor string) error {
	if err := civic.CheckEventMinutes(minutes); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE events SET minutes = ? WHERE id = ?`, minutes, id)
		if err != nil {
			return fmt.Errorf("event minutes: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return civic.Errorf(civic.ENOTFOUND, "event not found")
		}
		return s.audit(ctx, tx, actor, "event.minutes", id, "")
	})
}

// RegisterForEvent registers a user, within the capacity and before the
// event ends; registering twice is a no-op.
func (s *Store) RegisterForEvent(ctx context.Context, eventID, userID string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var capacity int
		var ends int64
		if err := s.row(ctx, tx, `SELECT capacity, ends FROM events WHERE id = ?`, eventID).Scan(&capacity, &ends); err != nil {
			return notFound(err, "event")
		}
		if capacity == 0 || !fromMS(ends).After(now) {
			return civic.Errorf(civic.ECONFLICT, "registration is not open for this event")
		}
		var mine, n int
		if err := s.row(ctx, tx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_id = ? THEN 1 ELSE 0 END), 0) FROM event_registrations WHERE event_id = ?`,
			userID, eventID).Scan(&n, &mine); err != nil {
			return fmt.Errorf("count registrations: %w", err)
		}
		if mine > 0 {
			return nil
		}
		if n >= capacity {
			return civic.Errorf(civic.ECONFLICT, "the event is full")
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO event_registrations (event_id, user_id, created) VALUES (?, ?, ?)`, eventID, userID, ms(now)); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		return nil
	})
}

// UnregisterFromEvent removes a user's registration (none: no-op).
func (s *Store) UnregisterFromEvent(ctx context.Context, eventID, userID string) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM event_registrations WHERE event_id = ? AND user_id = ?`, eventID, userID); err != nil {
		return fmt.Errorf("unregister: %w", err)
	}
	return nil
}

// EventRegistered reports whether a user is registered for an event.
func (s *Store) EventRegistered(ctx context.Context, eventID, userID string) (bool, error) {
	var n int
	if err := s.row(ctx, s.db, `SELECT COUNT(*) FROM event_registrations WHERE event_id = ? AND user_id = ?`, eventID, userID).Scan(&n); err != nil {
		return false, fmt.Errorf("registered: %w", err)
	}
	return n > 0, nil
}
