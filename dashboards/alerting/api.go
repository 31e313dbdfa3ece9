package alerting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/atmo"
)

// The service API the web layer calls (JSON routes and pages, phase 2).
// Who may call what (risk managers and administrators manage rules and
// acknowledge) is the web layer's decision; actor is the user's id or
// e-mail, kept in the transitions.

// Rules returns every rule, by name.
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) { return s.d.Store.AlertRules(ctx) }

// Rule returns one rule.
func (s *Service) Rule(ctx context.Context, id string) (*Rule, error) {
	return s.d.Store.AlertRule(ctx, id)
}

// CreateRule validates and stores a new rule (its ID, times and author are
// set here) and reloads the rules.
func (s *Service) CreateRule(ctx context.Context, actor string, r *Rule) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := s.d.Now().UTC()
	r.ID, r.CreatedBy, r.Created, r.Updated = NewID(), actor, now, now
	if err := s.d.Store.SaveAlertRule(ctx, r, true); err != nil {
		return err
	}
	return s.LoadRules(ctx)
}

// UpdateRule validates and replaces a rule (enable, disable, change its
// thresholds). Its evaluation restarts, except for the open alerts, which
// the new condition clears.
func (s *Service) UpdateRule(ctx context.Context, actor string, r *Rule) error {
	old, err := s.d.Store.AlertRule(ctx, r.ID)
	if err != nil {
		return err
	}
	if err := r.Validate(); err != nil {
		return err
	}
	r.CreatedBy, r.Created, r.Updated = old.CreatedBy, old.Created, s.d.Now().UTC()
	if err := s.d.Store.SaveAlertRule(ctx, r, false); err != nil {
		return err
	}
	s.log.Info("alert rule updated", "rule", r.ID, "by", actor)
	return s.LoadRules(ctx)
}

// DeleteRule deletes a rule; its open alerts are closed (and announced so).
func (s *Service) DeleteRule(ctx context.Context, actor, id string) error {
	closed, err := s.d.Store.DeleteAlertRule(ctx, id, actor, s.d.Now())
	if err != nil {
		return err
	}
	for _, a := range closed {
		s.announce(ctx, a, "closed")
	}
	return s.LoadRules(ctx)
}

// announce queues the notifications of a change already stored (a deleted
// rule's alerts), best effort.
func (s *Service) announce(ctx context.Context, a *Alert, event string) {
	ds, err := s.deliveries(ctx, a, event, s.d.Now(), false)
	if err == nil {
		err = s.d.Store.EnqueueDeliveries(ctx, ds)
	}
	if err != nil {
		s.log.Warn("alerts: change not announced", "alert", a.ID, "err", err)
	}
	s.poke()
}

// Alerts lists alerts, the newest first (AlertFilter{Open: true}: the
// active and acknowledged ones).
func (s *Service) Alerts(ctx context.Context, f AlertFilter) ([]*Alert, error) {
	return s.d.Store.Alerts(ctx, f)
}

// Alert returns one alert.
func (s *Service) Alert(ctx context.Context, id string) (*Alert, error) {
	return s.d.Store.Alert(ctx, id)
}

// History returns an alert's transitions, the firing first.
func (s *Service) History(ctx context.Context, id string) ([]Transition, error) {
	if _, err := s.d.Store.Alert(ctx, id); err != nil {
		return nil, err
	}
	return s.d.Store.AlertTransitions(ctx, id)
}

func checkComment(comment string) (string, error) {
	comment = strings.TrimSpace(comment)
	if !utf8.ValidString(comment) || utf8.RuneCountInString(comment) > MaxCommentLen {
		return "", fmt.Errorf("comment: valid text of at most %d characters: %w", MaxCommentLen, ErrInvalid)
	}
	return comment, nil
}

// Acknowledge records that actor took an alert in hand, with a comment:
// an active alert becomes acknowledged; a cleared alert nobody
// acknowledged keeps its status and gets the acknowledgement. Anything else
// is ErrTransition.
func (s *Service) Acknowledge(ctx context.Context, id, actor, comment string) (*Alert, error) {
	comment, err := checkComment(comment)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(actor) == "" {
		return nil, fmt.Errorf("actor: required: %w", ErrInvalid)
	}
	return s.change(ctx, id, "acknowledged", func(a *Alert, now time.Time) (Status, error) {
		if a.AckAt != nil || (a.Status != Active && a.Status != Cleared) {
			return "", fmt.Errorf("acknowledge a %s alert: %w", a.Status, ErrTransition)
		}
		a.AckBy, a.AckAt, a.AckComment = actor, &now, comment
		if a.Status == Active {
			return Acknowledged, nil
		}
		return Cleared, nil
	}, actor, comment)
}

// Close closes a cleared alert: its story is over.
func (s *Service) Close(ctx context.Context, id, actor, comment string) (*Alert, error) {
	comment, err := checkComment(comment)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(actor) == "" {
		return nil, fmt.Errorf("actor: required: %w", ErrInvalid)
	}
	return s.change(ctx, id, "closed", func(a *Alert, now time.Time) (Status, error) {
		if a.Status != Cleared {
			return "", fmt.Errorf("close a %s alert (only a cleared one): %w", a.Status, ErrTransition)
		}
		a.ClosedAt, a.ClosedBy = &now, actor
		return Closed, nil
	}, actor, comment)
}

// change applies a person's change by compare-and-set on the alert's
// version, retrying when the evaluator changed it meanwhile.
func (s *Service) change(ctx context.Context, id, event string, apply func(*Alert, time.Time) (Status, error), actor, comment string) (*Alert, error) {
	for attempt := 0; attempt < 5; attempt++ {
		a, err := s.d.Store.Alert(ctx, id)
		if err != nil {
			return nil, err
		}
		now := s.d.Now().UTC()
		from := a.Status
		to, err := apply(a, now)
		if err != nil {
			return nil, err
		}
		a.Status = to
		a.Version++
		ds, err := s.deliveries(ctx, a, event, now, false)
		if err != nil {
			return nil, err
		}
		err = s.d.Store.UpdateAlert(ctx, a, Transition{AlertID: id, From: from, To: to, At: now, By: actor, Comment: comment}, ds)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.poke()
		return a, nil
	}
	return nil, fmt.Errorf("alert %s: %w", id, ErrConflict)
}

// Subscribe makes a user receive the mail of a rule's alerts (ruleID) or
// of every alert of a site (site); one of the two.
func (s *Service) Subscribe(ctx context.Context, userID, ruleID, site string) error {
	return s.d.Store.SubscribeAlerts(ctx, userID, ruleID, site)
}

// Subscriptions are a user's subscriptions.
func (s *Service) Subscriptions(ctx context.Context, userID string) ([]Subscription, error) {
	return s.d.Store.AlertSubscriptions(ctx, userID)
}

// Unsubscribe ends a subscription.
func (s *Service) Unsubscribe(ctx context.Context, userID, ruleID, site string) error {
	return s.d.Store.UnsubscribeAlerts(ctx, userID, ruleID, site)
}

// Atmo returns the ATMO index of a site for the Paris day containing day.
func (s *Service) Atmo(ctx context.Context, site string, day time.Time) (*atmo.Index, error) {
	if !smartdeal.ValidID(site) {
		return nil, fmt.Errorf("site: %w", ErrInvalid)
	}
	if s.d.Measurements == nil {
		return nil, errors.New("alerts: no measurements reader")
	}
	return s.d.Measurements.Atmo(ctx, site, day, s.d.Now())
}

// PreviewFiring is one time a rule would have fired.
type PreviewFiring struct {
	Series   smartdeal.Series `json:"series"`
	Severity Severity         `json:"severity"`
	From     time.Time        `json:"from"`
	At       time.Time        `json:"at"`
	// Until is when it would have cleared (nil: still on at the end).
	Until *time.Time `json:"until,omitempty"`
	Value float64    `json:"value"`
}

// Preview is what a rule would have done over a past range.
type Preview struct {
	Start   time.Time       `json:"start"`
	Stop    time.Time       `json:"stop"`
	Series  int             `json:"series"`
	Firings []PreviewFiring `json:"firings"`
	// Truncated is set when more series matched than were replayed.
	Truncated bool `json:"truncated"`
}

// PreviewSeries bounds the series one preview replays.
const PreviewSeries = 50

// Preview replays a rule (not yet stored, or changed) over [start, stop)
// — "try it on the last 7 days" — on the InfluxDB values of the series it
// matches (aggregated per every; 0 lets the reader choose), and says how
// many times it would have fired and when. Offline and ATMO rules are not
// replayed (no history of statuses; one index a day): ErrInvalid.
func (s *Service) Preview(ctx context.Context, r *Rule, start, stop time.Time, every time.Duration) (*Preview, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	if r.Kind == Offline || r.Kind == Atmo {
		return nil, fmt.Errorf("kind: %s rules have no preview: %w", r.Kind, ErrInvalid)
	}
	if !stop.After(start) || stop.Sub(start) > 31*24*time.Hour {
		return nil, fmt.Errorf("range: start before stop, at most 31 days: %w", ErrInvalid)
	}
	if s.d.Measurements == nil {
		return nil, errors.New("alerts: no measurements reader")
	}
	series, err := s.d.Measurements.Latest(ctx, r.Site, r.Device, r.Quantity, stop.Sub(start))
	if err != nil {
		return nil, err
	}
	p := &Preview{Start: start, Stop: stop, Firings: []PreviewFiring{}}
	if len(series) > PreviewSeries {
		series, p.Truncated = series[:PreviewSeries], true
	}
	p.Series = len(series)
	for _, l := range series {
		samples, err := s.d.Measurements.Samples(ctx, l.Site, l.Device, l.Quantity, start, stop, every, AggLast)
		if err != nil {
			return nil, err
		}
		ser := smartdeal.Series{Site: l.Site, Device: l.Device, Quantity: l.Quantity, Unit: l.Unit}
		for lv := range r.Levels {
			var st State
			open := -1
			step := func(smp Sample) {
				var ev Event
				st, ev = Step(r, lv, st, smp)
				switch ev.Type {
				case Fire:
					p.Firings = append(p.Firings, PreviewFiring{Series: ser, Severity: r.Levels[lv].Severity, From: ev.From, At: ev.To, Value: ev.Value})
					open = len(p.Firings) - 1
				case Clear:
					if open >= 0 {
						t := ev.To
						p.Firings[open].Until = &t
						open = -1
					}
				}
			}
			var prev time.Time
			for _, smp := range samples {
				if r.Kind == NoData {
					if !prev.IsZero() {
						step(Sample{Time: smp.Time, Value: smp.Time.Sub(prev).Seconds()})
					}
					prev = smp.Time
					step(Sample{Time: smp.Time, Value: 0})
					continue
				}
				step(smp)
			}
		}
	}
	return p, nil
}
