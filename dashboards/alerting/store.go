package alerting

import (
	"context"
	"strconv"
	"time"

	"github.com/cd06/smartdeal/atmo"
)

// Key names one evaluation state: a level of a rule on one series.
type Key struct {
	RuleID string
	// Series is "site/device/quantity" (SeriesKey).
	Series string
	Level  int
}

// SeriesKey is the series part of a Key and of an alert.
func SeriesKey(site, device, quantity string) string { return site + "/" + device + "/" + quantity }

func (k Key) String() string { return k.RuleID + "|" + k.Series + "|" + strconv.Itoa(k.Level) }

// Change is what a state transition writes beside the state, in the same
// transaction: the alert it opens or the one it clears, and the
// notifications to deliver.
type Change struct {
	// Open is the alert fired (its first transition is written too).
	Open *Alert
	// ClearID is the alert cleared at ConditionEnd, recorded at Recorded.
	ClearID      string
	ConditionEnd time.Time
	Recorded     time.Time
	// Deliveries are queued with the change.
	Deliveries []Delivery
}

// RuleStore keeps the rules.
type RuleStore interface {
	AlertRules(ctx context.Context) ([]*Rule, error)
	AlertRule(ctx context.Context, id string) (*Rule, error)
	// SaveAlertRule inserts (create true) or replaces a rule.
	SaveAlertRule(ctx context.Context, r *Rule, create bool) error
	// DeleteAlertRule deletes a rule and its states; its open alerts are
	// closed by actor (with their transitions and the given deliveries).
	DeleteAlertRule(ctx context.Context, id, actor string, at time.Time) ([]*Alert, error)
}

// StateStore keeps the evaluation states, the edge between replicas.
type StateStore interface {
	// AlertState returns the state of k and its version (0 and the zero
	// State when there is none).
	AlertState(ctx context.Context, k Key) (State, int64, error)
	// ApplyAlertState writes st as k's state if its version is still prev
	// (0: none yet), with ch (may be nil) in the same transaction, and
	// returns the new version. ErrConflict when another writer came first,
	// or when ch.Open would be a second open alert for the key (the unique
	// index on open alerts, the last guard).
	ApplyAlertState(ctx context.Context, k Key, prev int64, st State, ch *Change) (int64, error)
}

// AlertFilter narrows Alerts; zero fields do not filter.
type AlertFilter struct {
	RuleID, Site string
	// Open keeps active and acknowledged alerts only.
	Open bool
	// Since keeps alerts fired at or after it.
	Since time.Time
	// Limit (optional) defaults to 100, at most 1000.
	Limit int
}

// AlertStore keeps the alerts and their transitions.
type AlertStore interface {
	Alerts(ctx context.Context, f AlertFilter) ([]*Alert, error)
	Alert(ctx context.Context, id string) (*Alert, error)
	// UpdateAlert writes a (acknowledged or closed by a person) if its
	// version is still a.Version-1, with its transition and deliveries;
	// ErrConflict otherwise.
	UpdateAlert(ctx context.Context, a *Alert, tr Transition, ds []Delivery) error
	AlertTransitions(ctx context.Context, id string) ([]Transition, error)
}

// Channels of a delivery.
const (
	ChannelMQTT    = "mqtt"
	ChannelWebhook = "webhook"
	ChannelMail    = "mail"
)

// Delivery is one notification to deliver, queued in the store.
type Delivery struct {
	ID      string `json:"id"`
	Seq     int64  `json:"seq"`
	Channel string `json:"channel"`
	// Target is the topic, the URL or the address.
	Target string `json:"target"`
	RuleID string `json:"rule_id,omitempty"`
	// AlertIDs are the alerts of the notification (a grouped mail has
	// several).
	AlertIDs []string `json:"alert_ids"`
	// Payload is the JSON sent (MQTT, webhook); a mail is written when sent.
	Payload []byte `json:"-"`
	// Group (mail) lets later alerts of the rule join this row while it
	// waits: one waiting mail per rule and address.
	Group     string     `json:"-"`
	Created   time.Time  `json:"created"`
	Attempts  int        `json:"attempts"`
	Next      time.Time  `json:"next_attempt"`
	LastError string     `json:"last_error,omitempty"`
	Delivered *time.Time `json:"delivered,omitempty"`
	Dead      *time.Time `json:"dead,omitempty"`
}

// DeliveryStore is the notifications' outbox.
type DeliveryStore interface {
	// ClaimDeliveries takes due deliveries for lease (a conditional update
	// each, so two workers never both take one); of one channel and target
	// only the oldest undelivered is due, so retained MQTT states and
	// webhooks go out in order. Only the channels given are taken (a
	// process without an MQTT client leaves those to the evaluator).
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, channels []string) ([]*Delivery, error)
	// FinishDelivery records an attempt: delivered (err nil), dead (the
	// last attempt failed) or due again at next.
	FinishDelivery(ctx context.Context, id string, err error, next time.Time, dead bool) error
	// EnqueueDeliveries queues deliveries outside a state change.
	EnqueueDeliveries(ctx context.Context, ds []Delivery) error
	// LastMail is when the newest mail of rule to address was delivered
	// or queued (zero when never): the storm grouping's clock.
	LastMail(ctx context.Context, ruleID, address string) (time.Time, error)
	Deliveries(ctx context.Context, channel string, limit int) ([]*Delivery, error)
}

// Recipient is a person subscribed to a rule or a site.
type Recipient struct {
	UserID, Name, Email string
}

// SubscriberStore says who gets the mail of an alert.
type SubscriberStore interface {
	// AlertRecipients are the users subscribed to the rule or to the site.
	AlertRecipients(ctx context.Context, ruleID, site string) ([]Recipient, error)
	SubscribeAlerts(ctx context.Context, userID, ruleID, site string) error
	UnsubscribeAlerts(ctx context.Context, userID, ruleID, site string) error
	// AlertSubscriptions are a user's subscriptions, the rules first
	// (by name), then the sites.
	AlertSubscriptions(ctx context.Context, userID string) ([]Subscription, error)
}

// Subscription is one user's subscription to a rule (RuleID, with its
// name; empty if the rule was deleted since) or to a site.
type Subscription struct {
	RuleID   string    `json:"rule_id,omitempty"`
	RuleName string    `json:"rule_name,omitempty"`
	Site     string    `json:"site,omitempty"`
	Created  time.Time `json:"created"`
}

// Store is everything the service needs of the relational store
// (dashboards/sqlstore implements it).
type Store interface {
	RuleStore
	StateStore
	AlertStore
	DeliveryStore
	SubscriberStore
}

// Latest is a series' newest reading, as the InfluxDB reader lists them.
type Latest struct {
	Site, Device, Quantity, Unit string
	Time                         time.Time
}

// Aggregates of Measurements.Samples.
const (
	AggLast = "last"
	AggMin  = "min"
	AggMax  = "max"
)

// Measurements is what the service reads from InfluxDB (the wiring adapts
// dashboards/measure): the series with their newest reading (no-data
// sweeps, previews), a series' values over a range, aggregated per every
// (0: the reader's finest) with agg (windows rebuilt at start, a run
// checked before it fires, previews), and a site's ATMO index.
type Measurements interface {
	Latest(ctx context.Context, site, device, quantity string, lookback time.Duration) ([]Latest, error)
	Samples(ctx context.Context, site, device, quantity string, start, stop time.Time, every time.Duration, agg string) ([]Sample, error)
	Atmo(ctx context.Context, site string, day, now time.Time) (*atmo.Index, error)
}

// Publisher sends one MQTT message (the wiring's paho client).
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte, retained bool) error
}

// Mail is one e-mail to send.
type Mail struct {
	To, Subject, Text string
}

// Mailer sends mail (the wiring adapts dashboards/mail).
type Mailer interface {
	SendMail(ctx context.Context, m Mail) error
}
