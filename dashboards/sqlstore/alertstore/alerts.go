// Package alertstore is the SQL adapter's store of alerts (alerting.Store):
// rules, evaluation states, alerts and their transitions, deliveries and
// subscriptions, in the tables of dashboards/sqlstore's migration 00008, over
// the core in package sqldb. sqlstore.Store embeds it.
package alertstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqldb"
)

// Store keeps the alert tables. It only stores: what a rule means and when
// an alert fires is package alerting's.
type Store struct {
	db *sqldb.DB
}

var _ alerting.Store = (*Store)(nil)

// New returns the alert store on db.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

const ruleColumns = `id, name, enabled, site, device, quantity, kind, hold_ms, window_ms, levels, created_by, created, updated`

// AlertRules returns every rule, by name.
func (s *Store) AlertRules(ctx context.Context) ([]*alerting.Rule, error) {
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT `+ruleColumns+` FROM alert_rules ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	defer rows.Close()
	var out []*alerting.Rule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AlertRule returns one rule; alerting.ErrNotFound when there is none.
func (s *Store) AlertRule(ctx context.Context, id string) (*alerting.Rule, error) {
	r, err := scanRule(s.db.Row(ctx, s.db.Pool(), `SELECT `+ruleColumns+` FROM alert_rules WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("alert rule %s: %w", id, alerting.ErrNotFound)
	}
	return r, err
}

type scanner interface{ Scan(dest ...any) error }

func scanRule(sc scanner) (*alerting.Rule, error) {
	var r alerting.Rule
	var enabled int
	var kind, levels string
	var hold, window, created, updated int64
	if err := sc.Scan(&r.ID, &r.Name, &enabled, &r.Site, &r.Device, &r.Quantity, &kind, &hold, &window, &levels, &r.CreatedBy, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan alert rule: %w", err)
	}
	if err := json.Unmarshal([]byte(levels), &r.Levels); err != nil {
		return nil, fmt.Errorf("alert rule %s: levels: %w", r.ID, err)
	}
	r.Enabled, r.Kind = enabled != 0, alerting.Kind(kind)
	r.Hold, r.Window = time.Duration(hold)*time.Millisecond, time.Duration(window)*time.Millisecond
	r.Created, r.Updated = sqldb.FromMS(created), sqldb.FromMS(updated)
	return &r, nil
}

// SaveAlertRule inserts (create) or replaces a rule.
func (s *Store) SaveAlertRule(ctx context.Context, r *alerting.Rule, create bool) error {
	levels, err := json.Marshal(r.Levels)
	if err != nil {
		return fmt.Errorf("alert rule levels: %w", err)
	}
	enabled := 0
	if r.Enabled {
		enabled = 1
	}
	if create {
		_, err = s.db.Exec(ctx, s.db.Pool(), `INSERT INTO alert_rules (`+ruleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Name, enabled, r.Site, r.Device, r.Quantity, string(r.Kind), r.Hold.Milliseconds(), r.Window.Milliseconds(),
			string(levels), r.CreatedBy, sqldb.MS(r.Created), sqldb.MS(r.Updated))
		if sqldb.IsUnique(err) {
			return fmt.Errorf("alert rule %s exists: %w", r.ID, alerting.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("create alert rule: %w", err)
		}
		return nil
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := s.db.Exec(ctx, tx, `UPDATE alert_rules SET name = ?, enabled = ?, site = ?, device = ?, quantity = ?, kind = ?, hold_ms = ?, window_ms = ?, levels = ?, updated = ? WHERE id = ?`,
			r.Name, enabled, r.Site, r.Device, r.Quantity, string(r.Kind), r.Hold.Milliseconds(), r.Window.Milliseconds(), string(levels), sqldb.MS(r.Updated), r.ID)
		if err != nil {
			return fmt.Errorf("update alert rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("alert rule %s: %w", r.ID, alerting.ErrNotFound)
		}
		// A changed rule starts its evaluation afresh; its open alerts
		// stay open until the new condition clears them.
		if _, err := s.db.Exec(ctx, tx, `DELETE FROM alert_states WHERE rule_id = ? AND state NOT LIKE ?`, r.ID, `%"phase":"firing"%`); err != nil {
			return fmt.Errorf("reset alert states: %w", err)
		}
		return nil
	})
}

// DeleteAlertRule deletes a rule and its states, and closes its open alerts
// (returned, closed by actor at at).
func (s *Store) DeleteAlertRule(ctx context.Context, id, actor string, at time.Time) ([]*alerting.Alert, error) {
	var closed []*alerting.Alert
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := s.db.Exec(ctx, tx, `DELETE FROM alert_rules WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete alert rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("alert rule %s: %w", id, alerting.ErrNotFound)
		}
		rows, err := s.db.Query(ctx, tx, `SELECT `+alertColumns+` FROM alerts WHERE rule_id = ? AND open = 1`, id)
		if err != nil {
			return fmt.Errorf("open alerts of rule: %w", err)
		}
		open, err := scanAlerts(rows)
		if err != nil {
			return err
		}
		for _, a := range open {
			from := a.Status
			t := at.UTC()
			a.Status, a.ClosedAt, a.ClosedBy, a.Version = alerting.Closed, &t, actor, a.Version+1
			if err := s.writeAlert(ctx, tx, a, alerting.Transition{AlertID: a.ID, From: from, To: alerting.Closed, At: t, By: actor, Comment: "règle supprimée"}); err != nil {
				return err
			}
			closed = append(closed, a)
		}
		return nil
	})
	return closed, err
}

// AlertState returns k's state and version (0 when none).
func (s *Store) AlertState(ctx context.Context, k alerting.Key) (alerting.State, int64, error) {
	var st alerting.State
	var raw string
	var version int64
	err := s.db.Row(ctx, s.db.Pool(), `SELECT state, version FROM alert_states WHERE rule_id = ? AND series = ? AND level = ?`, k.RuleID, k.Series, k.Level).Scan(&raw, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return st, 0, nil
	}
	if err != nil {
		return st, 0, fmt.Errorf("alert state %s: %w", k, err)
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, 0, fmt.Errorf("alert state %s: %w", k, err)
	}
	return st, version, nil
}

// ApplyAlertState writes st if k's version is still prev, with ch.
func (s *Store) ApplyAlertState(ctx context.Context, k alerting.Key, prev int64, st alerting.State, ch *alerting.Change) (int64, error) {
	raw, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("alert state: %w", err)
	}
	now := sqldb.MS(time.Now())
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if prev == 0 {
			_, err := s.db.Exec(ctx, tx, `INSERT INTO alert_states (rule_id, series, level, state, version, updated) VALUES (?, ?, ?, ?, 1, ?)`,
				k.RuleID, k.Series, k.Level, string(raw), now)
			if sqldb.IsUnique(err) {
				return alerting.ErrConflict
			}
			if sqldb.IsForeignKey(err) {
				return fmt.Errorf("alert rule %s: %w", k.RuleID, alerting.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("insert alert state: %w", err)
			}
		} else {
			res, err := s.db.Exec(ctx, tx, `UPDATE alert_states SET state = ?, version = version + 1, updated = ? WHERE rule_id = ? AND series = ? AND level = ? AND version = ?`,
				string(raw), now, k.RuleID, k.Series, k.Level, prev)
			if err != nil {
				return fmt.Errorf("update alert state: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return alerting.ErrConflict
			}
		}
		if ch == nil {
			return nil
		}
		if a := ch.Open; a != nil {
			if err := s.insertAlert(ctx, tx, a, k.Level); err != nil {
				return err
			}
		}
		if ch.ClearID != "" {
			if err := s.clearAlert(ctx, tx, ch.ClearID, ch.ConditionEnd, ch.Recorded); err != nil {
				return err
			}
		}
		return s.enqueueDeliveries(ctx, tx, ch.Deliveries)
	})
	if err != nil {
		return 0, err
	}
	return prev + 1, nil
}

const alertColumns = `id, rule_id, rule_name, kind, severity, site, device, quantity, unit, status, threshold, value, peak, from_t, fired_at, recorded, past,
	ack_by, ack_at, ack_comment, condition_end, cleared_at, closed_at, closed_by, version`

func (s *Store) insertAlert(ctx context.Context, tx *sql.Tx, a *alerting.Alert, level int) error {
	past := 0
	if a.Past {
		past = 1
	}
	series := alerting.SeriesKey(a.Series.Site, a.Series.Device, a.Series.Quantity)
	_, err := s.db.Exec(ctx, tx, `INSERT INTO alerts (id, rule_id, rule_name, kind, severity, level, series, site, device, quantity, unit, status, open,
		threshold, value, peak, from_t, fired_at, recorded, past, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, 1)`,
		a.ID, a.RuleID, a.RuleName, string(a.Kind), string(a.Severity), level, series, a.Series.Site, a.Series.Device, a.Series.Quantity, a.Series.Unit,
		string(alerting.Active), a.Threshold, a.Value, a.Peak, sqldb.MS(a.From), sqldb.MS(a.FiredAt), sqldb.MS(a.Recorded), past)
	if sqldb.IsUnique(err) {
		return fmt.Errorf("an open alert exists for %s level %d: %w", series, level, alerting.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert alert: %w", err)
	}
	a.Status, a.Version = alerting.Active, 1
	return s.transition(ctx, tx, alerting.Transition{AlertID: a.ID, To: alerting.Active, At: a.Recorded, By: alerting.Evaluator})
}

func (s *Store) clearAlert(ctx context.Context, tx *sql.Tx, id string, end, recorded time.Time) error {
	var status string
	if err := s.db.Row(ctx, tx, `SELECT status FROM alerts WHERE id = ?`, id).Scan(&status); err != nil {
		return fmt.Errorf("alert %s to clear: %w", id, err)
	}
	res, err := s.db.Exec(ctx, tx, `UPDATE alerts SET status = ?, open = NULL, condition_end = ?, cleared_at = ?, version = version + 1
		WHERE id = ? AND open = 1`, string(alerting.Cleared), sqldb.MS(end), sqldb.MS(recorded), id)
	if err != nil {
		return fmt.Errorf("clear alert: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("alert %s already cleared: %w", id, alerting.ErrConflict)
	}
	return s.transition(ctx, tx, alerting.Transition{AlertID: id, From: alerting.Status(status), To: alerting.Cleared, At: recorded, By: alerting.Evaluator,
		Comment: "fin de la condition le " + end.UTC().Format(time.RFC3339)})
}

func (s *Store) transition(ctx context.Context, q sqldb.Querier, tr alerting.Transition) error {
	_, err := s.db.Exec(ctx, q, `INSERT INTO alert_transitions (alert_id, seq, from_state, to_state, at, by_whom, comment)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM alert_transitions WHERE alert_id = ?), ?, ?, ?, ?, ?)`,
		tr.AlertID, tr.AlertID, string(tr.From), string(tr.To), sqldb.MS(tr.At), tr.By, tr.Comment)
	if err != nil {
		return fmt.Errorf("alert transition: %w", err)
	}
	return nil
}

// writeAlert stores a person's change of an alert (acknowledge, close) if
// its version is still a.Version-1.
func (s *Store) writeAlert(ctx context.Context, q sqldb.Querier, a *alerting.Alert, tr alerting.Transition) error {
	res, err := s.db.Exec(ctx, q, `UPDATE alerts SET status = ?, ack_by = ?, ack_at = ?, ack_comment = ?, closed_at = ?, closed_by = ?, version = ?
		WHERE id = ? AND version = ?`,
		string(a.Status), a.AckBy, sqldb.NullMS(a.AckAt), a.AckComment, sqldb.NullMS(a.ClosedAt), a.ClosedBy, a.Version, a.ID, a.Version-1)
	if err != nil {
		return fmt.Errorf("update alert: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("alert %s changed meanwhile: %w", a.ID, alerting.ErrConflict)
	}
	return s.transition(ctx, q, tr)
}

// UpdateAlert writes a person's change of an alert with its transition and
// deliveries.
func (s *Store) UpdateAlert(ctx context.Context, a *alerting.Alert, tr alerting.Transition, ds []alerting.Delivery) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.writeAlert(ctx, tx, a, tr); err != nil {
			return err
		}
		return s.enqueueDeliveries(ctx, tx, ds)
	})
}

// Alerts lists alerts, the newest first.
func (s *Store) Alerts(ctx context.Context, f alerting.AlertFilter) ([]*alerting.Alert, error) {
	var where []string
	var args []any
	if f.RuleID != "" {
		where, args = append(where, "rule_id = ?"), append(args, f.RuleID)
	}
	if f.Site != "" {
		where, args = append(where, "site = ?"), append(args, f.Site)
	}
	if f.Open {
		where = append(where, "open = 1")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "fired_at >= ?"), append(args, sqldb.MS(f.Since))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT ` + alertColumns + ` FROM alerts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.Query(ctx, s.db.Pool(), q+` ORDER BY fired_at DESC, id LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return scanAlerts(rows)
}

// Alert returns one alert; alerting.ErrNotFound when there is none.
func (s *Store) Alert(ctx context.Context, id string) (*alerting.Alert, error) {
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	as, err := scanAlerts(rows)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, fmt.Errorf("alert %s: %w", id, alerting.ErrNotFound)
	}
	return as[0], nil
}

func scanAlerts(rows *sql.Rows) ([]*alerting.Alert, error) {
	defer rows.Close()
	var out []*alerting.Alert
	for rows.Next() {
		var a alerting.Alert
		var kind, severity, status string
		var from, fired, recorded int64
		var past int
		var ackAt, end, cleared, closed sql.NullInt64
		if err := rows.Scan(&a.ID, &a.RuleID, &a.RuleName, &kind, &severity, &a.Series.Site, &a.Series.Device, &a.Series.Quantity, &a.Series.Unit,
			&status, &a.Threshold, &a.Value, &a.Peak, &from, &fired, &recorded, &past,
			&a.AckBy, &ackAt, &a.AckComment, &end, &cleared, &closed, &a.ClosedBy, &a.Version); err != nil {
			return nil, fmt.Errorf("scan alert: %w", err)
		}
		a.Kind, a.Severity, a.Status = alerting.Kind(kind), alerting.Severity(severity), alerting.Status(status)
		a.From, a.FiredAt, a.Recorded, a.Past = sqldb.FromMS(from), sqldb.FromMS(fired), sqldb.FromMS(recorded), past != 0
		a.AckAt, a.ConditionEnd, a.ClearedAt, a.ClosedAt = sqldb.FromNullMS(ackAt), sqldb.FromNullMS(end), sqldb.FromNullMS(cleared), sqldb.FromNullMS(closed)
		out = append(out, &a)
	}
	return out, rows.Err()
}

// AlertTransitions returns an alert's transitions in order.
func (s *Store) AlertTransitions(ctx context.Context, id string) ([]alerting.Transition, error) {
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT from_state, to_state, at, by_whom, comment FROM alert_transitions WHERE alert_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("alert transitions: %w", err)
	}
	defer rows.Close()
	var out []alerting.Transition
	for rows.Next() {
		tr := alerting.Transition{AlertID: id}
		var from, to string
		var at int64
		if err := rows.Scan(&from, &to, &at, &tr.By, &tr.Comment); err != nil {
			return nil, fmt.Errorf("scan alert transition: %w", err)
		}
		tr.From, tr.To, tr.At = alerting.Status(from), alerting.Status(to), sqldb.FromMS(at)
		out = append(out, tr)
	}
	return out, rows.Err()
}

// enqueueDeliveries inserts deliveries; a mail with a Group joins the
// waiting row of its group when there is one (storm grouping).
func (s *Store) enqueueDeliveries(ctx context.Context, tx *sql.Tx, ds []alerting.Delivery) error {
	for _, d := range ds {
		ids := strings.Join(d.AlertIDs, ",")
		if d.Group != "" {
			res, err := s.db.Exec(ctx, tx, `UPDATE alert_deliveries SET alert_ids = alert_ids || ',' || ? WHERE grp = ?`, ids, d.Group)
			if err != nil {
				return fmt.Errorf("group delivery: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				continue
			}
		}
		var grp any
		if d.Group != "" {
			grp = d.Group
		}
		if d.ID == "" {
			d.ID = civic.NewID()
		}
		_, err := s.db.Exec(ctx, tx, `INSERT INTO alert_deliveries (id, seq, channel, target, rule_id, alert_ids, payload, grp, created, next_attempt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, d.Seq, d.Channel, d.Target, d.RuleID, ids, string(d.Payload), grp, sqldb.MS(d.Created), sqldb.MS(d.Next))
		if err != nil {
			return fmt.Errorf("enqueue delivery: %w", err)
		}
	}
	return nil
}

// EnqueueDeliveries queues deliveries on their own.
func (s *Store) EnqueueDeliveries(ctx context.Context, ds []alerting.Delivery) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error { return s.enqueueDeliveries(ctx, tx, ds) })
}

const deliveryColumns = `id, seq, channel, target, rule_id, alert_ids, payload, created, attempts, next_attempt, last_error, delivered, dead`

func scanDeliveries(rows *sql.Rows) ([]*alerting.Delivery, error) {
	defer rows.Close()
	var out []*alerting.Delivery
	for rows.Next() {
		var d alerting.Delivery
		var ids, payload string
		var created, next int64
		var delivered, dead sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Seq, &d.Channel, &d.Target, &d.RuleID, &ids, &payload, &created, &d.Attempts, &next, &d.LastError, &delivered, &dead); err != nil {
			return nil, fmt.Errorf("scan delivery: %w", err)
		}
		if ids != "" {
			d.AlertIDs = strings.Split(ids, ",")
		}
		d.Payload, d.Created, d.Next = []byte(payload), sqldb.FromMS(created), sqldb.FromMS(next)
		d.Delivered, d.Dead = sqldb.FromNullMS(delivered), sqldb.FromNullMS(dead)
		out = append(out, &d)
	}
	return out, rows.Err()
}

// ClaimDeliveries takes the due deliveries, the oldest of each channel and
// target only, each by a conditional update on the next_attempt it was read
// with.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, channels []string) ([]*alerting.Delivery, error) {
	var has [3]string // mqtt, webhook, mail; "" for a channel not taken
	for _, c := range channels {
		switch c {
		case alerting.ChannelMQTT:
			has[0] = c
		case alerting.ChannelWebhook:
			has[1] = c
		case alerting.ChannelMail:
			has[2] = c
		}
	}
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT `+deliveryColumns+` FROM alert_deliveries d
		WHERE delivered IS NULL AND dead IS NULL AND next_attempt <= ? AND channel IN (?, ?, ?)
		AND NOT EXISTS (SELECT 1 FROM alert_deliveries o WHERE o.channel = d.channel AND o.target = d.target
			AND o.delivered IS NULL AND o.dead IS NULL AND o.seq < d.seq)
		ORDER BY next_attempt LIMIT ?`, sqldb.MS(now), has[0], has[1], has[2], limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries: %w", err)
	}
	due, err := scanDeliveries(rows)
	if err != nil {
		return nil, err
	}
	until := now.Add(lease)
	var claimed []*alerting.Delivery
	for _, d := range due {
		res, err := s.db.Exec(ctx, s.db.Pool(), `UPDATE alert_deliveries SET next_attempt = ?, attempts = attempts + 1, grp = NULL
			WHERE id = ? AND next_attempt = ? AND delivered IS NULL AND dead IS NULL`, sqldb.MS(until), d.ID, sqldb.MS(d.Next))
		if err != nil {
			return claimed, fmt.Errorf("claim delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			d.Attempts++
			d.Next = until
			claimed = append(claimed, d)
		}
	}
	if len(claimed) > 0 {
		// A grouped mail stops taking alerts once claimed: reread its ids.
		for _, d := range claimed {
			if d.Channel != alerting.ChannelMail {
				continue
			}
			var ids string
			if err := s.db.Row(ctx, s.db.Pool(), `SELECT alert_ids FROM alert_deliveries WHERE id = ?`, d.ID).Scan(&ids); err == nil && ids != "" {
				d.AlertIDs = strings.Split(ids, ",")
			}
		}
	}
	return claimed, nil
}

// FinishDelivery records the outcome of one attempt.
func (s *Store) FinishDelivery(ctx context.Context, id string, sendErr error, next time.Time, dead bool) error {
	now := sqldb.MS(time.Now())
	var err error
	switch {
	case sendErr == nil:
		_, err = s.db.Exec(ctx, s.db.Pool(), `UPDATE alert_deliveries SET delivered = ?, last_error = '' WHERE id = ?`, now, id)
	case dead:
		_, err = s.db.Exec(ctx, s.db.Pool(), `UPDATE alert_deliveries SET dead = ?, last_error = ? WHERE id = ?`, now, sqldb.Truncate(sendErr.Error(), 500), id)
	default:
		_, err = s.db.Exec(ctx, s.db.Pool(), `UPDATE alert_deliveries SET next_attempt = ?, last_error = ? WHERE id = ?`, sqldb.MS(next), sqldb.Truncate(sendErr.Error(), 500), id)
	}
	if err != nil {
		return fmt.Errorf("finish delivery: %w", err)
	}
	return nil
}

// LastMail is the newest mail of rule to address (delivered or queued).
func (s *Store) LastMail(ctx context.Context, ruleID, address string) (time.Time, error) {
	var last sql.NullInt64
	err := s.db.Row(ctx, s.db.Pool(), `SELECT MAX(CASE WHEN delivered IS NOT NULL THEN delivered ELSE next_attempt END) FROM alert_deliveries
		WHERE channel = ? AND rule_id = ? AND target = ?`, alerting.ChannelMail, ruleID, address).Scan(&last)
	if err != nil {
		return time.Time{}, fmt.Errorf("last mail: %w", err)
	}
	if !last.Valid {
		return time.Time{}, nil
	}
	return sqldb.FromMS(last.Int64), nil
}

// Deliveries lists the newest deliveries of a channel ("" for all).
func (s *Store) Deliveries(ctx context.Context, channel string, limit int) ([]*alerting.Delivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT `+deliveryColumns+` FROM alert_deliveries WHERE (? = '' OR channel = ?) ORDER BY seq DESC LIMIT ?`,
		channel, channel, limit)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	return scanDeliveries(rows)
}

// AlertRecipients are the users subscribed to the rule or to the site.
func (s *Store) AlertRecipients(ctx context.Context, ruleID, site string) ([]alerting.Recipient, error) {
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT DISTINCT u.id, u.name, u.email FROM alert_subscriptions a JOIN users u ON u.id = a.user_id
		WHERE (a.rule_id <> '' AND a.rule_id = ?) OR (a.site <> '' AND a.site = ?) ORDER BY u.email`, ruleID, site)
	if err != nil {
		return nil, fmt.Errorf("alert recipients: %w", err)
	}
	defer rows.Close()
	var out []alerting.Recipient
	for rows.Next() {
		var r alerting.Recipient
		if err := rows.Scan(&r.UserID, &r.Name, &r.Email); err != nil {
			return nil, fmt.Errorf("scan recipient: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SubscribeAlerts subscribes a user to a rule or a site (one of the two).
func (s *Store) SubscribeAlerts(ctx context.Context, userID, ruleID, site string) error {
	if (ruleID == "") == (site == "") || (site != "" && !smartdeal.ValidID(site)) {
		return fmt.Errorf("subscription: a rule or a site: %w", alerting.ErrInvalid)
	}
	_, err := s.db.Exec(ctx, s.db.Pool(), `INSERT INTO alert_subscriptions (user_id, rule_id, site, created) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		userID, ruleID, site, sqldb.MS(time.Now()))
	if sqldb.IsForeignKey(err) {
		return fmt.Errorf("user %s: %w", userID, alerting.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("subscribe alerts: %w", err)
	}
	return nil
}

// UnsubscribeAlerts removes a subscription.
func (s *Store) UnsubscribeAlerts(ctx context.Context, userID, ruleID, site string) error {
	if _, err := s.db.Exec(ctx, s.db.Pool(), `DELETE FROM alert_subscriptions WHERE user_id = ? AND rule_id = ? AND site = ?`, userID, ruleID, site); err != nil {
		return fmt.Errorf("unsubscribe alerts: %w", err)
	}
	return nil
}

// AlertSubscriptions are a user's subscriptions, the rules first by name,
// then the sites; the rule's name in the same query.
func (s *Store) AlertSubscriptions(ctx context.Context, userID string) ([]alerting.Subscription, error) {
	rows, err := s.db.Query(ctx, s.db.Pool(), `SELECT a.rule_id, COALESCE(r.name, ''), a.site, a.created FROM alert_subscriptions a
		LEFT JOIN alert_rules r ON a.rule_id <> '' AND r.id = a.rule_id WHERE a.user_id = ?
		ORDER BY CASE WHEN a.rule_id = '' THEN 1 ELSE 0 END, COALESCE(r.name, ''), a.rule_id, a.site LIMIT 1000`, userID)
	if err != nil {
		return nil, fmt.Errorf("alert subscriptions: %w", err)
	}
	defer rows.Close()
	var out []alerting.Subscription
	for rows.Next() {
		var sub alerting.Subscription
		var created int64
		if err := rows.Scan(&sub.RuleID, &sub.RuleName, &sub.Site, &created); err != nil {
			return nil, fmt.Errorf("scan subscription: %w", err)
		}
		sub.Created = sqldb.FromMS(created)
		out = append(out, sub)
	}
	return out, rows.Err()
}
