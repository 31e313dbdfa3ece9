// Package telemetry is the platform's one decoder of telemetry messages: from
// an MQTT topic smartdeal/v1/{site}/{device}/telemetry and its payload (SenML
// JSON or InfluxDB line protocol) to validated readings. The ingest writes what
// it returns, the API's live feed shows it, and the alert evaluator is to judge
// it; none of them decodes a payload on its own, so a format the platform
// accepts reaches all of them.
//
// It imports only the standard library, the domain package and the two codec
// packages (senml, lineproto). See docs/codecs.md.
package telemetry

import (
	"fmt"
	"strings"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/lineproto"
	"github.com/cd06/smartdeal/senml"
)

// Payload formats, as named in the ingest's metrics
// (smartdeal_ingest_messages_total{format}).
const (
	FormatSenML        = "senml"
	FormatLineProtocol = "lineprotocol"
	FormatUnknown      = "unknown" // the topic or the size was refused before the payload was looked at, or neither format
)

// DefaultMaxPayload is Decoder.MaxPayload when none is set: 256 KiB.
const DefaultMaxPayload = 256 << 10

// Sentinel errors of Decode, besides those of the domain package
// (smartdeal.ErrInvalidTopic, ErrIdentityMismatch, ErrInvalidValue…) that the
// codecs wrap. Both wrap smartdeal.ErrMalformedPayload.
var (
	// ErrTooLarge means the payload is larger than Decoder.MaxPayload; it
	// was not decoded.
	ErrTooLarge = fmt.Errorf("payload too large: %w", smartdeal.ErrMalformedPayload)
	// ErrNoReading means the payload decoded to no reading at all.
	ErrNoReading = fmt.Errorf("no reading in payload: %w", smartdeal.ErrMalformedPayload)
)

// Decoder decodes the telemetry messages under one topic prefix. The zero
// value decodes smartdeal/v1/… with the default payload limit.
type Decoder struct {
	// Topics (optional) is the topic layout; its prefix defaults to
	// smartdeal/v1.
	Topics smartdeal.Topics
	// MaxPayload (optional) is the largest payload decoded, in bytes;
	// defaults to DefaultMaxPayload. A larger payload is refused with
	// ErrTooLarge before it is looked at.
	MaxPayload int
}

// Message is one decoded telemetry message.
type Message struct {
	// Site and Device are the identity the topic gives (and so the broker's
	// ACL). When the topic is refused, each is set only if that part of the
	// topic is a valid identifier, so that a dead letter can still be filed
	// under it.
	Site, Device string
	// Format is FormatSenML, FormatLineProtocol or FormatUnknown.
	Format string
	// Readings are the message's readings, appended to the dst given to
	// Decode. Every one belongs to Site/Device and passed
	// smartdeal.Reading.Validate(now), which the ingest's point encoder relies
	// on (it escapes nothing but string values). On error Readings is dst
	// unchanged, for reuse.
	Readings []smartdeal.Reading
}

// Decode decodes one message received on topic at now, appending its
// readings to dst (which may be nil; pass dst[:0] to reuse a buffer). A
// payload whose first non-blank byte is '[' or '{' is SenML JSON
// (senml.Readings), any other line protocol (lineproto.Readings). Errors say
// what is wrong and wrap a sentinel: smartdeal.ErrInvalidTopic for a topic
// that is not a device's telemetry topic under the prefix, ErrTooLarge,
// ErrNoReading, or what the codecs wrap (smartdeal.ErrMalformedPayload,
// ErrIdentityMismatch, ErrInvalidValue, ErrInvalidTime, ErrInvalidQuantity,
// ErrInvalidID).
func (d Decoder) Decode(topic string, payload []byte, now time.Time, dst []smartdeal.Reading) (Message, error) {
	m := Message{Format: FormatUnknown, Readings: dst}
	site, device, channel, err := d.Topics.Parse(topic)
	if err == nil && channel != smartdeal.ChannelTelemetry {
		err = fmt.Errorf("topic %q: channel %q is not %s: %w", truncate(topic, 120), truncate(channel, 40),
			smartdeal.ChannelTelemetry, smartdeal.ErrInvalidTopic)
	}
	if err != nil {
		m.Site, m.Device = topicParts(d.Topics, topic)
		return m, err
	}
	m.Site, m.Device = site, device
	limit := d.MaxPayload
	if limit <= 0 {
		limit = DefaultMaxPayload
	}
	if len(payload) > limit {
		return m, fmt.Errorf("payload of %d bytes, more than the limit of %d: %w", len(payload), limit, ErrTooLarge)
	}
	start := len(dst)
	var rs []smartdeal.Reading
	switch {
	case looksJSON(payload):
		m.Format = FormatSenML
		rs, err = senml.Readings(site, device, payload, now, dst)
	case lineproto.Looks(payload):
		m.Format = FormatLineProtocol
		rs, err = lineproto.Readings(site, device, payload, now, dst)
	default:
		err = fmt.Errorf("neither SenML JSON nor line protocol: %w", smartdeal.ErrMalformedPayload)
	}
	if err != nil {
		return m, err
	}
	if len(rs) == start {
		return m, ErrNoReading
	}
	// The codecs validate; this second look is cheap and is what makes the
	// promise on Message.Readings hold whatever a codec lets through.
	for i := start; i < len(rs); i++ {
		r := &rs[i]
		if r.Site != site || r.Device != device {
			return m, fmt.Errorf("reading for %s/%s on the topic of %s/%s: %w",
				truncate(r.Site, 80), truncate(r.Device, 80), site, device, smartdeal.ErrIdentityMismatch)
		}
		if err := r.Validate(now); err != nil {
			return m, err
		}
	}
	m.Readings = rs
	return m, nil
}

// topicParts returns the site and device parts of a topic that was refused,
// each only if it is a valid identifier.
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
