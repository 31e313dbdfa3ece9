package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/ingest/lineproto"
	"github.com/cd06/smartdeal/senml"
)

// Dead-letter reasons, the values of the "reason" field and of the
// smartdeal_ingest_deadletters_total{reason} label.
const (
	ReasonTooLarge         = "too_large"         // payload over ingest.max_payload
	ReasonInvalidTopic     = "invalid_topic"     // site or device in the topic is not a valid identifier
	ReasonMalformed        = "malformed"         // neither SenML JSON nor line protocol, or broken
	ReasonEmpty            = "empty"             // decoded to no reading at all
	ReasonIdentityMismatch = "identity_mismatch" // the payload claims another site or device
	ReasonInvalidValue     = "invalid_value"     // non-finite number, missing value, bad unit
	ReasonInvalidTime      = "invalid_time"      // before 2000 or too far in the future
	ReasonInvalidQuantity  = "invalid_quantity"  // quantity name not [a-z][a-z0-9_]*
	ReasonInvalidID        = "invalid_id"        // e.g. a mission id that is not an identifier
	ReasonRejected         = "rejected"          // InfluxDB refused it (HTTP 400: field type conflict…)
)

// Payload formats, the "format" label of smartdeal_ingest_messages_total.
const (
	FormatSenML        = "senml"
	FormatLineProtocol = "lineprotocol"
	FormatUnknown      = "unknown"
)

// decode turns one message into an item, or says why it cannot be written.
// rs is scratch space for the readings, returned for reuse.
func (s *Service) decode(m Message, rs []smartdeal.Reading) ([]smartdeal.Reading, item, string, error) {
	now := s.now()
	it := item{msg: m, format: FormatUnknown, received: now}
	site, device, _, err := s.topics.Parse(m.Topic())
	if err != nil {
		// Keep whichever part is valid, so the dead letter lands under it.
		it.site, it.device = topicParts(s.topics, m.Topic())
		return rs, it, ReasonInvalidTopic, err
	}
	it.site, it.device = site, device
	data := m.Payload()
	if len(data) > s.cfg.MaxPayload {
		return rs, it, ReasonTooLarge, fmt.Errorf("payload of %d bytes exceeds ingest.max_payload (%d): %w",
			len(data), s.cfg.MaxPayload, smartdeal.ErrMalformedPayload)
	}
	switch {
	case looksJSON(data):
		it.format = FormatSenML
		rs, err = senml.Readings(site, device, data, now, rs)
	case lineproto.Looks(data):
		it.format = FormatLineProtocol
		rs, err = lineproto.Readings(site, device, data, now, rs)
	default:
		err = fmt.Errorf("neither SenML JSON nor line protocol: %w", smartdeal.ErrMalformedPayload)
	}
	if err != nil {
		return rs, it, reasonOf(err), err
	}
	if len(rs) == 0 {
		return rs, it, ReasonEmpty, fmt.Errorf("no reading in payload: %w", smartdeal.ErrMalformedPayload)
	}
	// The codecs validate; this second look is cheap and is what makes the
	// encoder's no-escaping of tags safe whatever a codec lets through.
	for i := range rs {
		r := &rs[i]
		if r.Site != site || r.Device != device {
			return rs, it, ReasonIdentityMismatch, fmt.Errorf("reading for %s/%s on the topic of %s/%s: %w",
				r.Site, r.Device, site, device, smartdeal.ErrIdentityMismatch)
		}
		if err := r.Validate(now); err != nil {
			return rs, it, reasonOf(err), err
		}
	}
	it.n = len(rs)
	it.points = s.encode(make([]byte, 0, 96*len(rs)), rs)
	return rs, it, "", nil
}

// topicParts returns the site and device parts of a topic that did not
// parse, each only if it is a valid identifier.
func topicParts(t smartdeal.Topics, topic string) (site, device string) {
	rest, ok := strings.CutPrefix(topic, strings.TrimSuffix(t.TelemetryFilter(), "+/+/"+smartdeal.ChannelTelemetry))
	if !ok {
		return "", ""
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) > 0 && smartdeal.ValidID(parts[0]) {
		site = parts[0]
	}
	if len(parts) > 1 && smartdeal.ValidID(parts[1]) {
		device = parts[1]
	}
	return site, device
}

func looksJSON(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '[', '{':
			return true
		default:
			return false
		}
	}
	return false
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, smartdeal.ErrIdentityMismatch):
		return ReasonIdentityMismatch
	case errors.Is(err, smartdeal.ErrInvalidTime):
		return ReasonInvalidTime
	case errors.Is(err, smartdeal.ErrInvalidQuantity):
		return ReasonInvalidQuantity
	case errors.Is(err, smartdeal.ErrInvalidValue):
		return ReasonInvalidValue
	case errors.Is(err, smartdeal.ErrInvalidID):
		return ReasonInvalidID
	case errors.Is(err, smartdeal.ErrInvalidTopic):
		return ReasonInvalidTopic
	default:
		return ReasonMalformed
	}
}

// DeadLetter is the JSON document published to
// {prefix}/deadletter/{site}/{device} for a message that cannot be written.
type DeadLetter struct {
	Reason     string    `json:"reason"`
	Error      string    `json:"error"`
	Topic      string    `json:"topic"`
	Site       string    `json:"site,omitempty"`
	Device     string    `json:"device,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	// PayloadBase64 is the original payload (standard base64), cut to
	// ingest.max_payload bytes when it was larger (PayloadTruncated).
	PayloadBase64    string `json:"payload_base64"`
	PayloadSize      int    `json:"payload_size"`
	PayloadTruncated bool   `json:"payload_truncated,omitempty"`
}

// deadLetter publishes the message's dead letter, then acks the message. If
// the publish fails (broker gone, shutdown), the message stays unacked and
// the broker redelivers it later.
func (s *Service) deadLetter(ctx context.Context, it item, reason string, cause error) {
	defer s.unacked.Add(-1)
	payload := it.msg.Payload()
	dl := DeadLetter{
		Reason:      reason,
		Error:       truncate(cause.Error(), 1024),
		Topic:       truncate(it.msg.Topic(), 1024),
		Site:        it.site,
		Device:      it.device,
		ReceivedAt:  it.received.UTC(),
		PayloadSize: len(payload),
	}
	if len(payload) > s.cfg.MaxPayload {
		payload, dl.PayloadTruncated = payload[:s.cfg.MaxPayload], true
	}
	dl.PayloadBase64 = base64.StdEncoding.EncodeToString(payload)
	body, err := json.Marshal(dl)
	if err != nil { // cannot happen with these field types
		s.log.Error("dead letter encoding", "err", err)
		return
	}
	topic := s.topics.DeadLetter(it.site, it.device)
	if err := s.dl.Publish(ctx, topic, body); err != nil {
		s.log.Error("dead letter not published; message left unacked for redelivery",
			"topic", it.msg.Topic(), "reason", reason, "err", err)
		s.abandoned.Add(1)
		return
	}
	it.msg.Ack()
	s.m.deadLetters.WithLabelValues(reason).Inc()
	s.m.messages.WithLabelValues(it.format, "deadletter").Inc()
	if s.limiter.allow("dl-" + reason) {
		s.log.Warn("payload dead-lettered", "reason", reason, "topic", dl.Topic, "err", dl.Error,
			"suppressed", s.limiter.suppressed("dl-"+reason))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// logLimiter lets one log line per key through per interval and counts the
// ones it held back.
type logLimiter struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]logEntry
}

type logEntry struct {
	at         time.Time
	suppressed int
	reported   int
}

// allow reports whether a line for key may be logged now.
func (l *logLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.last[key]
	now := time.Now()
	if !e.at.IsZero() && now.Sub(e.at) < l.every {
		e.suppressed++
		l.last[key] = e
		return false
	}
	l.last[key] = logEntry{at: now, reported: e.suppressed}
	return true
}

// suppressed returns how many lines for key were held back before the one
// just allowed.
func (l *logLimiter) suppressed(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last[key].reported
}
