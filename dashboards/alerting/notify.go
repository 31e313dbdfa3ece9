package alerting

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cd06/smartdeal/atmo"
)

// Message is the JSON of an alert change, published retained on MQTT and
// POSTed to the webhooks (docs/alerts.md).
type Message struct {
	// Event is fired, acknowledged, cleared or closed.
	Event string `json:"event"`
	// At is when the change was recorded.
	At    time.Time `json:"at"`
	Alert *Alert    `json:"alert"`
	// Link is the alert's page.
	Link string `json:"link"`
}

// Webhook headers.
const (
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of the body
	// with the webhook secret.
	HeaderSignature = "X-SmartDeal-Signature"
	// HeaderDelivery is the delivery's id: a receiver that sees it twice
	// (an answer lost after it was handled) can drop the second.
	HeaderDelivery = "X-SmartDeal-Delivery"
	HeaderEvent    = "X-SmartDeal-Event"
)

// Sign returns the signature header's value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a signature header in constant time.
func VerifySignature(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// AlertTopic is the retained topic of an alert's key
// (smartdeal.Topics.Alert): {prefix}/alerts/{site}/{device}/{quantity}/{rule}/{severity}.
func (s *Service) AlertTopic(a *Alert) string {
	return s.topics.Alert(a.Series.Site, a.Series.Device, a.Series.Quantity, a.RuleID, string(a.Severity))
}

// AlertsFilter matches every alert topic.
func (s *Service) AlertsFilter() string { return s.topics.AlertsFilter() }

// Link is the page of an alert (served by the web layer).
func (s *Service) Link(id string) string { return s.cfg.PublicURL + "/alertes/" + id }

// deliveries are the notifications of one change of a: the retained MQTT
// state, one POST per webhook and, for a firing (mail true), a mail to each
// subscriber, grouped per rule and address.
func (s *Service) deliveries(ctx context.Context, a *Alert, event string, now time.Time, mail bool) ([]Delivery, error) {
	body, err := json.Marshal(Message{Event: event, At: now.UTC(), Alert: a, Link: s.Link(a.ID)})
	if err != nil {
		return nil, fmt.Errorf("alert message: %w", err)
	}
	mk := func(channel, target string) Delivery {
		return Delivery{ID: NewID(), Seq: s.seq.Add(1), Channel: channel, Target: target, RuleID: a.RuleID, AlertIDs: []string{a.ID},
			Payload: body, Created: now, Next: now}
	}
	out := []Delivery{mk(ChannelMQTT, s.AlertTopic(a))}
	for _, u := range s.cfg.Webhooks {
		out = append(out, mk(ChannelWebhook, u))
	}
	if !mail || s.d.Mailer == nil {
		return out, nil
	}
	rcpts, err := s.d.Store.AlertRecipients(ctx, a.RuleID, a.Series.Site)
	if err != nil {
		return nil, err
	}
	for _, r := range rcpts {
		d := mk(ChannelMail, r.Email)
		d.Payload = nil
		d.Group = a.RuleID + "|" + r.Email
		last, err := s.d.Store.LastMail(ctx, a.RuleID, r.Email)
		if err != nil {
			return nil, err
		}
		if due := last.Add(s.cfg.MailInterval); due.After(d.Next) {
			d.Next = due // the storm waits for the interval, then goes as one mail
		}
		out = append(out, d)
	}
	return out, nil
}

// deliveryBatch is how many deliveries one claim takes.
const deliveryBatch = 50

func (s *Service) deliverLoop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		s.DeliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.wake:
		}
	}
}

// channels are those this process can deliver: webhooks always, MQTT
// with a publisher, mail with a mailer.
func (s *Service) channels() []string {
	ch := []string{ChannelWebhook}
	if s.d.Publisher != nil {
		ch = append(ch, ChannelMQTT)
	}
	if s.d.Mailer != nil {
		ch = append(ch, ChannelMail)
	}
	return ch
}

// DeliverDue makes one attempt at every due delivery.
func (s *Service) DeliverDue(ctx context.Context) {
	for ctx.Err() == nil {
		ds, err := s.d.Store.ClaimDeliveries(ctx, s.d.Now(), s.cfg.Lease, deliveryBatch, s.channels())
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("alerts: cannot read due deliveries", "err", err)
			}
			return
		}
		for _, d := range ds {
			s.deliver(ctx, d)
		}
		if len(ds) < deliveryBatch {
			return
		}
	}
}

func (s *Service) deliver(ctx context.Context, d *Delivery) {
	var err error
	switch d.Channel {
	case ChannelMQTT:
		if s.d.Publisher == nil {
			err = errors.New("no MQTT publisher")
		} else {
			err = s.d.Publisher.Publish(ctx, d.Target, d.Payload, true)
		}
	case ChannelWebhook:
		err = s.post(ctx, d)
	case ChannelMail:
		err = s.sendMail(ctx, d)
	default:
		err = fmt.Errorf("unknown channel %q", d.Channel)
	}
	if err != nil && ctx.Err() != nil {
		return // shutting down: the lease ends and another attempt follows
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	dead := err != nil && d.Attempts >= s.cfg.MaxAttempts
	next := s.d.Now().Add(Backoff(s.cfg.RetryBase, s.cfg.RetryMax, d.Attempts))
	switch {
	case err == nil:
		s.metrics.Delivered.Add(1)
	case dead:
		s.metrics.DeadLetters.Add(1)
		s.log.Error("alerts: delivery abandoned after the last attempt (dead letter)", "channel", d.Channel, "target", redactTarget(d), "id", d.ID,
			"attempts", d.Attempts, "err", err)
	default:
		s.metrics.DeliveryFailures.Add(1)
		s.log.Warn("alerts: delivery failed; will retry", "channel", d.Channel, "target", redactTarget(d), "id", d.ID, "attempt", d.Attempts,
			"retry_at", next, "err", err)
	}
	if ferr := s.d.Store.FinishDelivery(fctx, d.ID, err, next, dead); ferr != nil {
		s.log.Warn("alerts: delivery outcome not recorded (it may be sent again)", "id", d.ID, "err", ferr)
	}
}

func redactTarget(d *Delivery) string {
	if d.Channel == ChannelMail {
		if _, domain, ok := strings.Cut(d.Target, "@"); ok {
			return "…@" + domain
		}
	}
	if i := strings.IndexByte(d.Target, '?'); i >= 0 {
		return d.Target[:i]
	}
	return d.Target
}

// Backoff is the wait after the attempt-th failure: base doubled per
// attempt, at most max.
func Backoff(base, maxWait time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	return min(d, maxWait)
}

// post sends one webhook: a 2xx answer delivers it.
func (s *Service) post(ctx context.Context, d *Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, bytes.NewReader(d.Payload))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	var m struct {
		Event string `json:"event"`
	}
	_ = json.Unmarshal(d.Payload, &m)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "smartdeal-alerts")
	req.Header.Set(HeaderSignature, Sign(s.cfg.WebhookSecret, d.Payload))
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderEvent, m.Event)
	resp, err := s.d.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook: answer %s", resp.Status)
	}
	return nil
}

// sendMail writes the mail of a delivery's alerts (one, or a storm of one
// rule grouped) in French and sends it.
func (s *Service) sendMail(ctx context.Context, d *Delivery) error {
	if s.d.Mailer == nil {
		return errors.New("no mailer")
	}
	var alerts []*Alert
	for _, id := range d.AlertIDs {
		a, err := s.d.Store.Alert(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		alerts = append(alerts, a)
	}
	if len(alerts) == 0 {
		return nil // nothing left to say
	}
	return s.d.Mailer.SendMail(ctx, MailText(d.Target, alerts, s.Link, s.d.Now()))
}

// MailText writes the French mail of one rule's alerts (a storm is one
// mail listing each).
func MailText(to string, alerts []*Alert, link func(id string) string, now time.Time) Mail {
	first := alerts[0]
	worst := first
	for _, a := range alerts {
		if a.Severity.Rank() > worst.Severity.Rank() {
			worst = a
		}
	}
	m := Mail{To: to}
	where := first.Series.Site
	switch {
	case len(alerts) > 1:
		m.Subject = fmt.Sprintf("%d alertes, jusqu'à %s — %s", len(alerts), worst.Severity.Label(), first.RuleName)
	case first.Past:
		m.Subject = fmt.Sprintf("Alerte passée (%s) — %s (%s)", first.Severity.Label(), first.RuleName, where)
	default:
		m.Subject = fmt.Sprintf("Alerte %s — %s (%s)", first.Severity.Label(), first.RuleName, where)
	}
	var b strings.Builder
	b.WriteString("Bonjour,\n\n")
	if len(alerts) > 1 {
		fmt.Fprintf(&b, "La règle « %s » a déclenché %d alertes depuis le dernier message (un seul message par règle et par intervalle).\n", first.RuleName, len(alerts))
	} else {
		fmt.Fprintf(&b, "La règle « %s » a déclenché une alerte.\n", first.RuleName)
	}
	for _, a := range alerts {
		b.WriteString("\n")
		fmt.Fprintf(&b, "• %s (%s) — %s\n", strings.ToUpper(a.Severity.Label()[:1])+a.Severity.Label()[1:], a.Status.Label(), describeSeries(a))
		fmt.Fprintf(&b, "  Condition constatée le %s : %s\n", FrenchTime(a.FiredAt), describeValue(a))
		if a.Past {
			fmt.Fprintf(&b, "  Attention : cette alerte appartient au passé. Les relevés sont arrivés en retard (enregistrée le %s) ; elle ne décrit pas la situation actuelle.\n", FrenchTime(a.Recorded))
		}
		if a.ConditionEnd != nil {
			fmt.Fprintf(&b, "  Fin de la condition le %s.\n", FrenchTime(*a.ConditionEnd))
		}
		fmt.Fprintf(&b, "  Relevés en cause : du %s au %s.\n", FrenchTime(a.From), FrenchTime(a.FiredAt))
		fmt.Fprintf(&b, "  Voir l'alerte, la prendre en compte et la commenter : %s\n", link(a.ID))
	}
	b.WriteString("\nVous recevez ce message parce que vous suivez cette règle ou ce site sur la plateforme SMART Deal.\n")
	b.WriteString("\n— SMART Deal, plateforme du Département\n")
	m.Text = b.String()
	return m
}

func describeSeries(a *Alert) string {
	switch a.Kind {
	case Atmo:
		return "indice ATMO du site " + a.Series.Site
	case Offline:
		return "appareil " + a.Series.Device + " du site " + a.Series.Site
	}
	return a.Series.Quantity + " de l'appareil " + a.Series.Device + " (site " + a.Series.Site + ")"
}

func describeValue(a *Alert) string {
	unit := ""
	if a.Series.Unit != "" {
		unit = " " + a.Series.Unit
	}
	switch a.Kind {
	case Above:
		return fmt.Sprintf("%s%s, au-dessus du seuil de %s%s", FrenchNumber(a.Value), unit, FrenchNumber(a.Threshold), unit)
	case Below:
		return fmt.Sprintf("%s%s, sous le seuil de %s%s", FrenchNumber(a.Value), unit, FrenchNumber(a.Threshold), unit)
	case Rate:
		return fmt.Sprintf("variation de %s%s, seuil %s%s", FrenchNumber(a.Value), unit, FrenchNumber(a.Threshold), unit)
	case NoData:
		return fmt.Sprintf("aucune donnée depuis %s", FrenchTime(a.From))
	case Offline:
		return "appareil hors ligne"
	case Atmo:
		c := atmo.Class(a.Value)
		return fmt.Sprintf("indice ATMO %s (%d), seuil %s", c.Label(), int(c), atmo.Class(a.Threshold).Label())
	}
	return FrenchNumber(a.Value)
}

// FrenchNumber writes a number with a decimal comma: 2,75.
func FrenchNumber(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', -1, 64), ".", ",", 1)
}

var frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// FrenchTime writes a time in Paris: "2 mars 2026 à 10 h 15".
func FrenchTime(t time.Time) string {
	p := t.In(atmo.Paris())
	return fmt.Sprintf("%d %s %d à %d h %02d", p.Day(), frMonths[p.Month()-1], p.Year(), p.Hour(), p.Minute())
}
