package ingest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/telemetry"
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

// Payload formats, the "format" label of smartdeal_ingest_messages_total
// (those of package telemetry, which decodes every message).
const (
	FormatSenML        = telemetry.FormatSenML
	FormatLineProtocol = telemetry.FormatLineProtocol
	FormatUnknown      = telemetry.FormatUnknown
)

// decode turns one message into an item, or says why it cannot be written.
// rs is scratch space for the readings, returned for reuse. The decoding
// itself, and the validation the encoder relies on, is telemetry.Decoder's.
func (s *Service) decode(m Message, rs []smartdeal.Reading) ([]smartdeal.Reading, item, string, error) {
	now := s.now()
	msg, err := s.dec.Decode(m.Topic(), m.Payload(), now, rs)
	it := item{msg: m, site: msg.Site, device: msg.Device, format: msg.Format, received: now}
	if err != nil {
		return msg.Readings, it, reasonOf(err), err
	}
	rs = msg.Readings
	it.n = len(rs)
	it.points = s.encode(make([]byte, 0, 96*len(rs)), rs)
	return rs, it, "", nil
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, telemetry.ErrTooLarge):
		return ReasonTooLarge
	case errors.Is(err, telemetry.ErrNoReading):
		return ReasonEmpty
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
