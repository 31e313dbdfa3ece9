// Package lineproto decodes InfluxDB line protocol, what Telegraf agents
// publish, into the platform's readings, with
// github.com/influxdata/line-protocol/v2. The mapping is documented in
// docs/codecs.md.
package lineproto

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// maxExactInt is 2^53: larger integers do not convert exactly to float64.
const maxExactInt = 1 << 53

// Readings decodes InfluxDB line protocol (what Telegraf publishes) into validated readings of
// site/device, appending to dst. Mapping: each field of each line is one reading; quantity =
// measurement when the field key is "value", else "<measurement>_<field>" (both must then satisfy
// ValidQuantity — no silent rewriting: invalid ⇒ ErrMalformedPayload); tags "site"/"device" if
// present must equal the topic's ids (else ErrIdentityMismatch); tag "unit" → Unit; tag "mission" →
// Mission; other tags are dropped (cardinality; document it). float/int/uint → KindNumber, string →
// KindString, bool → KindBool. Timestamp precision nanoseconds; a line without timestamp gets now.
//
// Integers beyond ±2^53 (not exact as float64), strings longer than
// smartdeal.MaxTextLen, a field key or a site/device/unit/mission tag repeated
// in one line and a payload without
// any entry are rejected. Errors name the entry (and the line and column for
// syntax errors). On error dst is returned unchanged.
func Readings(site, device string, data []byte, now time.Time, dst []smartdeal.Reading) ([]smartdeal.Reading, error) {
	if err := smartdeal.CheckID("site", site); err != nil {
		return dst, err
	}
	if err := smartdeal.CheckID("device", device); err != nil {
		return dst, err
	}
	start, orig := len(dst), dst
	// fail reports an error of the entry-th entry (comments and blank lines
	// are not entries); errors of the decoder carry the line and column.
	fail := func(entry int, format string, args ...any) ([]smartdeal.Reading, error) {
		return orig, fmt.Errorf("line protocol entry %d: "+format, append([]any{entry}, args...)...)
	}
	// Strings are built once per distinct measurement, key or tag value of
	// consecutive lines: Telegraf repeats them line after line.
	var c stringCache
	dec := lineprotocol.NewDecoderWithBytes(data)
	entry := 0
	for dec.Next() {
		entry++
		m, err := dec.Measurement()
		if err != nil {
			return fail(entry, "%w: %w", err, smartdeal.ErrMalformedPayload)
		}
		measurement := c.get(0, m)
		var unit, mission string
		var seen uint8 // tags of the platform seen on this line
		for {
			k, v, err := dec.NextTag()
			if err != nil {
				return fail(entry, "%w: %w", err, smartdeal.ErrMalformedPayload)
			}
			if k == nil {
				break
			}
			if bit := platformTag(k); bit != 0 {
				if seen&bit != 0 {
					return fail(entry, "tag %q repeated: %w", k, smartdeal.ErrMalformedPayload)
				}
				seen |= bit
			}
			switch string(k) {
			case "site":
				if string(v) != site {
					return fail(entry, "tag site=%q on the topic of site %s: %w", v, site, smartdeal.ErrIdentityMismatch)
				}
			case "device":
				if string(v) != device {
					return fail(entry, "tag device=%q on the topic of device %s: %w", v, device, smartdeal.ErrIdentityMismatch)
				}
			case "unit":
				unit = c.get(1, v)
			case "mission":
				mission = c.get(2, v)
			}
		}
		first := len(dst)
		for {
			k, val, err := dec.NextField()
			if err != nil {
				sentinel := smartdeal.ErrMalformedPayload
				if errors.Is(err, lineprotocol.ErrValueOutOfRange) {
					sentinel = smartdeal.ErrInvalidValue
				}
				return fail(entry, "%w: %w", err, sentinel)
			}
			if k == nil {
				break
			}
			q := measurement
			if string(k) != "value" {
				q = c.join(measurement, k)
			}
			if !smartdeal.ValidQuantity(q) {
				return fail(entry, "quantity %q (measurement %q, field %q) is not [a-z][a-z0-9_]{0,62}: %w",
					q, measurement, k, smartdeal.ErrMalformedPayload)
			}
			for i := first; i < len(dst); i++ {
				if dst[i].Quantity == q {
					return fail(entry, "field %q repeated: %w", k, smartdeal.ErrMalformedPayload)
				}
			}
			r := smartdeal.Reading{Site: site, Device: device, Quantity: q, Unit: unit, Mission: mission}
			switch val.Kind() {
			case lineprotocol.Float:
				r.Kind, r.Number = smartdeal.KindNumber, val.FloatV()
			case lineprotocol.Int:
				i := val.IntV()
				if i > maxExactInt || i < -maxExactInt {
					return fail(entry, "field %q: integer %d not exact as float64: %w", k, i, smartdeal.ErrInvalidValue)
				}
				r.Kind, r.Number = smartdeal.KindNumber, float64(i)
			case lineprotocol.Uint:
				u := val.UintV()
				if u > maxExactInt {
					return fail(entry, "field %q: integer %d not exact as float64: %w", k, u, smartdeal.ErrInvalidValue)
				}
				r.Kind, r.Number = smartdeal.KindNumber, float64(u)
			case lineprotocol.String:
				s := val.BytesV()
				if len(s) > smartdeal.MaxTextLen {
					return fail(entry, "field %q: string of %d bytes, more than %d: %w", k, len(s), smartdeal.MaxTextLen, smartdeal.ErrInvalidValue)
				}
				r.Kind, r.Text = smartdeal.KindString, string(s)
			case lineprotocol.Bool:
				r.Kind, r.Bool = smartdeal.KindBool, val.BoolV()
			default:
				return fail(entry, "field %q: unknown kind %v: %w", k, val.Kind(), smartdeal.ErrMalformedPayload)
			}
			dst = append(dst, r)
		}
		if len(dst) == first {
			return fail(entry, "no field: %w", smartdeal.ErrMalformedPayload)
		}
		t, err := dec.Time(lineprotocol.Nanosecond, now)
		if err != nil {
			sentinel := smartdeal.ErrMalformedPayload
			if errors.Is(err, lineprotocol.ErrValueOutOfRange) {
				sentinel = smartdeal.ErrInvalidTime
			}
			return fail(entry, "%w: %w", err, sentinel)
		}
		t = t.UTC()
		for i := first; i < len(dst); i++ {
			dst[i].Time = t
			if err := dst[i].Validate(now); err != nil {
				return fail(entry, "%w", err)
			}
		}
	}
	if len(dst) == start {
		return dst, fmt.Errorf("line protocol: no line: %w", smartdeal.ErrMalformedPayload)
	}
	return dst, nil
}

// platformTag returns a bit for the tags the platform reads, 0 for others.
func platformTag(k []byte) uint8 {
	switch string(k) {
	case "site":
		return 1
	case "device":
		return 2
	case "unit":
		return 4
	case "mission":
		return 8
	}
	return 0
}

// Looks reports whether a payload looks like line protocol rather than SenML JSON (first
// non-space byte is not '[' or '{'), so the telemetry decoder can pick the codec.
// An empty or blank payload does not look like line protocol.
func Looks(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] != '[' && data[0] != '{'
}

// stringCache turns the byte slices of the decoder (valid only until its next
// call) into strings, reusing an earlier string of the same slot when the
// bytes are equal, so a payload of many similar lines allocates little.
type stringCache struct {
	recent [3][4]string // per slot (measurement, unit, mission), most recent first
	// joined caches "<measurement>_<key>".
	joinM, joinK, joined [16]string
	n                    int
}

func (c *stringCache) get(slot int, b []byte) string {
	r := &c.recent[slot]
	for _, s := range r {
		if s == string(b) {
			return s
		}
	}
	copy(r[1:], r[:len(r)-1])
	r[0] = string(b)
	return r[0]
}

func (c *stringCache) join(m string, k []byte) string {
	for i := range c.n {
		if c.joinM[i] == m && c.joinK[i] == string(k) {
			return c.joined[i]
		}
	}
	s := m + "_" + string(k)
	if c.n < len(c.joined) {
		c.joinM[c.n], c.joinK[c.n], c.joined[c.n] = m, s[len(m)+1:], s
		c.n++
	}
	return s
}
