// Package senml is the platform's SenML (RFC 8428) JSON codec: decoding with
// the full resolution rules of RFC 8428 section 4, the naming convention
// between SenML names and the platform's series, and encoding for the gateway
// and the bridge. It imports only the standard library and the domain package
// (github.com/cd06/smartdeal). See docs/codecs.md.
package senml

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal"
)

// Version is the SenML version this package understands (RFC 8428).
// Packs announcing a greater version (bver) are rejected, as RFC 8428 4.4 asks.
const Version = 10

// Record is one record as on the wire (RFC 8428 JSON labels).
type Record struct {
	BaseName    string   `json:"bn,omitempty"`
	BaseTime    float64  `json:"bt,omitempty"`
	BaseUnit    string   `json:"bu,omitempty"`
	BaseValue   *float64 `json:"bv,omitempty"`
	BaseSum     *float64 `json:"bs,omitempty"`
	BaseVersion *int     `json:"bver,omitempty"`
	Name        string   `json:"n,omitempty"`
	Unit        string   `json:"u,omitempty"`
	Value       *float64 `json:"v,omitempty"`
	StringValue *string  `json:"vs,omitempty"`
	BoolValue   *bool    `json:"vb,omitempty"`
	DataValue   *string  `json:"vd,omitempty"`
	Sum         *float64 `json:"s,omitempty"`
	Time        float64  `json:"t,omitempty"`
	UpdateTime  *float64 `json:"ut,omitempty"`
}

// Pack is a SenML pack: the records of one message, in order.
type Pack []Record

// ResolvedRecord is a record after RFC 8428 §4.6 resolution: full name, absolute time, unit.
type ResolvedRecord struct {
	Name        string
	Unit        string
	Time        time.Time
	Value       *float64
	StringValue *string
	BoolValue   *bool
	DataValue   *string
	Sum         *float64
	UpdateTime  *float64
	// Version is the pack's SenML version (bver), Version when absent.
	// RFC 8428 4.6 keeps it on resolved records only when it is not 10.
	Version int
}

// Decode parses and resolves a SenML JSON pack. now is the time of reception: records
// without a time, and relative times (t < 2^28, RFC 4.5.3), are resolved against it.
// Errors wrap smartdeal.ErrMalformedPayload (or smartdeal.ErrInvalidValue / smartdeal.ErrInvalidTime) and say which record.
//
// The records come out in chronological order, as RFC 8428 4.6 asks of resolved
// records; records of the same time keep their pack order. Records that carry
// only base fields (such as {"bn":"dev:"}) set the base for the records after
// them and produce no resolved record. Times are rounded to the microsecond.
func Decode(data []byte, now time.Time) ([]ResolvedRecord, error) {
	d := getSenMLDecoder()
	defer putSenMLDecoder(d)
	if err := d.decode(data, now); err != nil {
		return nil, err
	}
	return d.resolved(), nil
}

// resolved materializes d.recs as ResolvedRecords, in chronological order
// (stable), with a
// handful of allocations whatever the number of records.
func (d *senmlDecoder) resolved() []ResolvedRecord {
	arena := string(d.arena)
	var nf, ns, nb int
	for i := range d.recs {
		h := d.recs[i].has
		nf += bits.OnesCount16(uint16(h & (fV | fS | fUT)))
		ns += bits.OnesCount16(uint16(h & (fVS | fVD)))
		nb += bits.OnesCount16(uint16(h & fVB))
	}
	floats := make([]float64, nf)
	strs := make([]string, ns)
	bools := make([]bool, nb)
	out := make([]ResolvedRecord, len(d.recs))
	for i := range d.recs {
		rc := &d.recs[i]
		o := &out[i]
		o.Name = arena[rc.name.off:rc.name.end]
		o.Unit = arena[rc.unit.off:rc.unit.end]
		o.Time = rc.t
		o.Version = int(d.version)
		if rc.has&fV != 0 {
			floats[0] = rc.v
			o.Value, floats = &floats[0], floats[1:]
		}
		if rc.has&fS != 0 {
			floats[0] = rc.s
			o.Sum, floats = &floats[0], floats[1:]
		}
		if rc.has&fUT != 0 {
			floats[0] = rc.ut
			o.UpdateTime, floats = &floats[0], floats[1:]
		}
		if rc.has&(fVS|fVD) != 0 {
			strs[0] = arena[rc.str.off:rc.str.end]
			if rc.has&fVS != 0 {
				o.StringValue = &strs[0]
			} else {
				o.DataValue = &strs[0]
			}
			strs = strs[1:]
		}
		if rc.has&fVB != 0 {
			bools[0] = rc.vb
			o.BoolValue, bools = &bools[0], bools[1:]
		}
	}
	if !slices.IsSortedFunc(out, compareResolvedTime) {
		slices.SortStableFunc(out, compareResolvedTime)
	}
	return out
}

func compareResolvedTime(a, b ResolvedRecord) int { return a.Time.Compare(b.Time) }

// Readings decodes a pack into validated readings (smartdeal.Reading.Validate(now)), appending to
// dst. Number -> smartdeal.KindNumber, vs -> smartdeal.KindString, vb -> smartdeal.KindBool, vd -> smartdeal.KindData; s -> Sum/HasSum.
//
// The topic smartdeal/v1/{site}/{device}/telemetry is the identity. A resolved
// name is "<quantity>", "<device>:<quantity>" or "<site>:<device>:<quantity>"
// (each separator ':' or '/'); any other prefix claims another identity and the
// pack is rejected with smartdeal.ErrIdentityMismatch. A record whose quantity is
// "mission" with a string value is not a reading: it sets smartdeal.Reading.Mission on
// every reading of the pack. Readings come out in pack order. A record with a
// sum but no value is rejected (a reading always has a value), as are string
// and data values longer than smartdeal.MaxTextLen and packs that yield no reading.
// On error dst is returned unchanged.
func Readings(site, device string, data []byte, now time.Time, dst []smartdeal.Reading) ([]smartdeal.Reading, error) {
	if err := smartdeal.CheckID("site", site); err != nil {
		return dst, err
	}
	if err := smartdeal.CheckID("device", device); err != nil {
		return dst, err
	}
	d := getSenMLDecoder()
	defer putSenMLDecoder(d)
	if err := d.decode(data, now); err != nil {
		return dst, err
	}
	arena := string(d.arena)
	start, orig := len(dst), dst
	mission, missionIdx := "", -1
	for i := range d.recs {
		rc := &d.recs[i]
		name := arena[rc.name.off:rc.name.end]
		q, ok := senmlQuantity(site, device, name)
		if !ok {
			return orig, fmt.Errorf("senml record %d: name %q is not under %s:%s: %w",
				rc.idx, truncate(name, 80), site, device, smartdeal.ErrIdentityMismatch)
		}
		r := smartdeal.Reading{Site: site, Device: device, Quantity: q, Unit: arena[rc.unit.off:rc.unit.end], Time: rc.t}
		switch {
		case rc.has&fV != 0:
			r.Kind, r.Number = smartdeal.KindNumber, rc.v
		case rc.has&fVS != 0:
			r.Kind, r.Text = smartdeal.KindString, arena[rc.str.off:rc.str.end]
		case rc.has&fVB != 0:
			r.Kind, r.Bool = smartdeal.KindBool, rc.vb
		case rc.has&fVD != 0:
			r.Kind, r.Text = smartdeal.KindData, arena[rc.str.off:rc.str.end]
		default:
			return orig, fmt.Errorf("senml record %d: %s has a sum but no value: %w", rc.idx, q, smartdeal.ErrInvalidValue)
		}
		if q == "mission" && r.Kind == smartdeal.KindString {
			if !smartdeal.ValidID(r.Text) {
				return orig, fmt.Errorf("senml record %d: mission %q: %w", rc.idx, truncate(r.Text, 80), smartdeal.ErrInvalidID)
			}
			if missionIdx >= 0 && r.Text != mission {
				return orig, fmt.Errorf("senml record %d: mission %q after mission %q of record %d: %w",
					rc.idx, r.Text, mission, missionIdx, smartdeal.ErrMalformedPayload)
			}
			mission, missionIdx = r.Text, rc.idx
			continue
		}
		if rc.has&fS != 0 {
			r.Sum, r.HasSum = rc.s, true
		}
		if len(r.Text) > smartdeal.MaxTextLen {
			return orig, fmt.Errorf("senml record %d: %s: value of %d bytes, more than %d: %w",
				rc.idx, q, len(r.Text), smartdeal.MaxTextLen, smartdeal.ErrInvalidValue)
		}
		if err := r.Validate(now); err != nil {
			return orig, fmt.Errorf("senml record %d: %w", rc.idx, err)
		}
		dst = append(dst, r)
	}
	if len(dst) == start {
		return dst, fmt.Errorf("senml: pack has no reading: %w", smartdeal.ErrMalformedPayload)
	}
	if missionIdx >= 0 {
		for i := start; i < len(dst); i++ {
			dst[i].Mission = mission
		}
	}
	return dst, nil
}

// senmlQuantity strips the identity prefix of a resolved name. It reports
// false when the name claims another site or device.
func senmlQuantity(site, device, name string) (string, bool) {
	i := lastSeparator(name)
	if i < 0 {
		return name, true
	}
	q, prefix := name[i+1:], name[:i]
	j := lastSeparator(prefix)
	if j < 0 {
		return q, prefix == device
	}
	return q, prefix[j+1:] == device && prefix[:j] == site
}

// lastSeparator is strings.LastIndexAny(s, ":/") without its set building.
func lastSeparator(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' || s[i] == '/' {
			return i
		}
	}
	return -1
}

// Encode writes a pack as compact JSON (the gateway and bridge use it).
// The output is byte for byte what encoding/json produces for the pack. A
// non-finite number is an error wrapping smartdeal.ErrInvalidValue; an empty pack one
// wrapping smartdeal.ErrMalformedPayload.
func Encode(p Pack) ([]byte, error) {
	return Append(make([]byte, 0, 64*len(p)), p)
}

// Append is Encode appending to dst. On error it returns dst unchanged.
func Append(dst []byte, p Pack) ([]byte, error) {
	if len(p) == 0 {
		return dst, fmt.Errorf("senml: empty pack: %w", smartdeal.ErrMalformedPayload)
	}
	b := append(dst, '[')
	for i := range p {
		r := &p[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		first := true
		key := func(k string) {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, '"')
			b = append(b, k...)
			b = append(b, '"', ':')
		}
		var bad string
		num := func(k string, x float64) {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				bad = k
				return
			}
			key(k)
			b = appendJSONFloat(b, x)
		}
		if r.BaseName != "" {
			key("bn")
			b = appendJSONString(b, r.BaseName)
		}
		if r.BaseTime != 0 {
			num("bt", r.BaseTime)
		}
		if r.BaseUnit != "" {
			key("bu")
			b = appendJSONString(b, r.BaseUnit)
		}
		if r.BaseValue != nil {
			num("bv", *r.BaseValue)
		}
		if r.BaseSum != nil {
			num("bs", *r.BaseSum)
		}
		if r.BaseVersion != nil {
			key("bver")
			b = strconv.AppendInt(b, int64(*r.BaseVersion), 10)
		}
		if r.Name != "" {
			key("n")
			b = appendJSONString(b, r.Name)
		}
		if r.Unit != "" {
			key("u")
			b = appendJSONString(b, r.Unit)
		}
		if r.Value != nil {
			num("v", *r.Value)
		}
		if r.StringValue != nil {
			key("vs")
			b = appendJSONString(b, *r.StringValue)
		}
		if r.BoolValue != nil {
			key("vb")
			b = strconv.AppendBool(b, *r.BoolValue)
		}
		if r.DataValue != nil {
			key("vd")
			b = appendJSONString(b, *r.DataValue)
		}
		if r.Sum != nil {
			num("s", *r.Sum)
		}
		if r.Time != 0 {
			num("t", r.Time)
		}
		if r.UpdateTime != nil {
			num("ut", *r.UpdateTime)
		}
		if bad != "" {
			return dst, fmt.Errorf("senml record %d: %s is not a finite number: %w", i, bad, smartdeal.ErrInvalidValue)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// EncodeReadings encodes readings of ONE device as a pack with bn "<site>:<device>:" and bt = the
// first reading's time (seconds, µs precision), later times relative to bt, so
// Readings(site, device, EncodeReadings(...)) round-trips (time to the microsecond).
//
// Readings must belong to site/device (else smartdeal.ErrIdentityMismatch), pass
// Validate except for the future check, and share one mission (or none), which
// is written as a "mission" record; a string reading named "mission" is
// therefore refused. Sub-microsecond parts of times are truncated.
func EncodeReadings(site, device string, rs []smartdeal.Reading) ([]byte, error) {
	return AppendReadings(make([]byte, 0, 32+len(site)+len(device)+48*len(rs)), site, device, rs)
}

// AppendReadings is EncodeReadings appending to dst; it does not allocate
// when dst has room. On error it returns dst unchanged.
func AppendReadings(dst []byte, site, device string, rs []smartdeal.Reading) ([]byte, error) {
	if err := smartdeal.CheckID("site", site); err != nil {
		return dst, err
	}
	if err := smartdeal.CheckID("device", device); err != nil {
		return dst, err
	}
	if len(rs) == 0 {
		return dst, fmt.Errorf("senml: no readings to encode: %w", smartdeal.ErrMalformedPayload)
	}
	mission := rs[0].Mission
	for i := range rs {
		r := &rs[i]
		if r.Site != site || r.Device != device {
			return dst, fmt.Errorf("senml: reading %d is of %s/%s, not %s/%s: %w",
				i, truncate(r.Site, 80), truncate(r.Device, 80), site, device, smartdeal.ErrIdentityMismatch)
		}
		if r.Mission != mission {
			return dst, fmt.Errorf("senml: reading %d: mission %q differs from %q: %w", i, r.Mission, mission, smartdeal.ErrInvalidValue)
		}
		// The future check needs a clock; the decoder applies it.
		if err := r.Validate(r.Time); err != nil {
			return dst, fmt.Errorf("senml: reading %d: %w", i, err)
		}
		switch r.Kind {
		case smartdeal.KindString:
			if r.Quantity == "mission" {
				return dst, fmt.Errorf("senml: reading %d: a string reading named mission would read back as the pack's mission: %w",
					i, smartdeal.ErrInvalidValue)
			}
			if !utf8.ValidString(r.Text) || len(r.Text) > smartdeal.MaxTextLen {
				return dst, fmt.Errorf("senml: reading %d: %s: string not valid UTF-8 or longer than %d: %w",
					i, r.Quantity, smartdeal.MaxTextLen, smartdeal.ErrInvalidValue)
			}
		case smartdeal.KindData:
			if !validBase64URL(r.Text) || len(r.Text) > smartdeal.MaxTextLen {
				return dst, fmt.Errorf("senml: reading %d: %s: data not unpadded base64url or longer than %d: %w",
					i, r.Quantity, smartdeal.MaxTextLen, smartdeal.ErrInvalidValue)
			}
		}
	}
	b := append(dst, `[{"bn":`...)
	b = appendJSONString(b, site+":"+device+":")
	t0 := rs[0].Time.UnixMicro()
	b = append(b, `,"bt":`...)
	b = appendMicros(b, t0)
	for i := range rs {
		r := &rs[i]
		if i > 0 {
			b = append(b, `,{`...)
		} else {
			b = append(b, ',')
		}
		b = append(b, `"n":"`...)
		b = append(b, r.Quantity...) // smartdeal.ValidQuantity: nothing to escape
		b = append(b, '"')
		if r.Unit != "" {
			b = append(b, `,"u":`...)
			b = appendJSONString(b, r.Unit)
		}
		if dt := r.Time.UnixMicro() - t0; dt != 0 {
			b = append(b, `,"t":`...)
			b = appendMicros(b, dt)
		}
		switch r.Kind {
		case smartdeal.KindNumber:
			b = append(b, `,"v":`...)
			b = appendJSONFloat(b, r.Number)
		case smartdeal.KindString:
			b = append(b, `,"vs":`...)
			b = appendJSONString(b, r.Text)
		case smartdeal.KindBool:
			b = append(b, `,"vb":`...)
			b = strconv.AppendBool(b, r.Bool)
		case smartdeal.KindData:
			b = append(b, `,"vd":"`...)
			b = append(b, r.Text...) // base64url: nothing to escape
			b = append(b, '"')
		}
		if r.HasSum {
			b = append(b, `,"s":`...)
			b = appendJSONFloat(b, r.Sum)
		}
		b = append(b, '}')
	}
	if mission != "" {
		b = append(b, `,{"n":"mission","vs":"`...)
		b = append(b, mission...) // smartdeal.ValidID: nothing to escape
		b = append(b, `"}`...)
	}
	return append(b, ']'), nil
}

// appendMicros writes a count of microseconds as decimal seconds.
func appendMicros(b []byte, us int64) []byte {
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	b = strconv.AppendInt(b, us/1e6, 10)
	if frac := us % 1e6; frac != 0 {
		var f [7]byte
		f[0] = '.'
		for i := 6; i >= 1; i-- {
			f[i] = byte('0' + frac%10)
			frac /= 10
		}
		n := 7
		for f[n-1] == '0' {
			n--
		}
		b = append(b, f[:n]...)
	}
	return b
}

// appendJSONFloat writes a finite float64 as encoding/json does.
func appendJSONFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string exactly as encoding/json does
// (HTML-safe escapes, U+2028/U+2029 escaped, invalid UTF-8 as \ufffd).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validBase64URL reports whether s is base64url without padding (RFC 4648 §5),
// as RFC 8428 section 5 asks of vd.
func validBase64URL[S []byte | string](s S) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validSenMLName reports whether a resolved name follows RFC 8428 4.5.1.
func validSenMLName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == ':' || c == '.' || c == '/' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// span is a part of a decoder's string arena.
type span struct{ off, end int }

// senmlRec is a resolved record whose strings live in the decoder's arena.
type senmlRec struct {
	name, unit, str span
	has             senmlField // fV, fVS, fVB or fVD; fS when there is a sum; fUT
	idx             int        // index in the pack
	v, s, ut        float64
	vb              bool
	t               time.Time
}

// senmlDecoder holds the reusable state of one decode.
type senmlDecoder struct {
	sc      senmlScanner
	rec     rawRecord
	arena   []byte
	recs    []senmlRec
	bn, bu  []byte
	version int64
}

var senmlDecoders = sync.Pool{New: func() any { return new(senmlDecoder) }}

func getSenMLDecoder() *senmlDecoder { return senmlDecoders.Get().(*senmlDecoder) }

func putSenMLDecoder(d *senmlDecoder) {
	// Drop every reference to the caller's payload before pooling.
	d.sc.data = nil
	d.rec = rawRecord{}
	clear(d.sc.unknown)
	if cap(d.arena) > 1<<20 || cap(d.sc.scratch) > 1<<20 || cap(d.recs) > 1<<14 {
		return // do not keep the buffers of a huge pack alive
	}
	senmlDecoders.Put(d)
}

// Time limits of the resolver.
const (
	// senmlRelativeLimit is 2^28: smaller times are relative to now (RFC 8428 4.5.3).
	senmlRelativeLimit = 1 << 28
	// senmlMaxAbsolute is 10000-01-01T00:00:00Z; later absolute times are rejected.
	senmlMaxAbsolute = 253402300800
	// senmlMinRelative is the earliest relative time accepted (about 272
	// years before now), so that now+t cannot overflow.
	senmlMinRelative = -(1 << 33)
)

// senmlError builds the error of record idx.
func senmlError(idx int, sentinel error, format string, args ...any) error {
	return fmt.Errorf("senml record %d: %s: %w", idx, fmt.Sprintf(format, args...), sentinel)
}

// decode scans and resolves data into d.recs and d.arena, in pack order.
func (d *senmlDecoder) decode(data []byte, now time.Time) error {
	d.sc.reset(data)
	return d.resolve(now, d.sc.next)
}

// resolve applies RFC 8428 resolution to the records next returns.
func (d *senmlDecoder) resolve(now time.Time, next func(*rawRecord) (bool, error)) error {
	d.arena = d.arena[:0]
	d.recs = d.recs[:0]
	d.bn = d.bn[:0]
	d.bu = d.bu[:0]
	d.version = Version
	var bt, bv, bs float64
	hasBS := false
	lastUnit := span{}
	for idx := 0; ; idx++ {
		r := &d.rec
		ok, err := next(r)
		if err != nil {
			var re *numberRangeError
			var se *scanError
			switch {
			case errors.As(err, &re):
				sentinel := smartdeal.ErrInvalidValue
				if re.label == "t" || re.label == "bt" {
					sentinel = smartdeal.ErrInvalidTime
				}
				return fmt.Errorf("senml record %d: %w: %w", idx, err, sentinel)
			case errors.As(err, &se) && se.pack:
				return fmt.Errorf("senml: %w: %w", err, smartdeal.ErrMalformedPayload)
			}
			return fmt.Errorf("senml record %d: %w: %w", idx, err, smartdeal.ErrMalformedPayload)
		}
		if !ok {
			return nil
		}
		h := r.has
		if h&fBVer != 0 {
			switch {
			case r.bver < 1:
				return senmlError(idx, smartdeal.ErrMalformedPayload, "bver %d is not a positive integer", r.bver)
			case r.bver > Version:
				return senmlError(idx, smartdeal.ErrMalformedPayload, "bver %d > %d not understood", r.bver, Version)
			case idx > 0 && r.bver != d.version:
				return senmlError(idx, smartdeal.ErrMalformedPayload, "mixed versions in one pack (%d after %d)", r.bver, d.version)
			}
			d.version = r.bver
		}
		if h&fBN != 0 {
			d.bn = append(d.bn[:0], r.bn...)
		}
		if h&fBU != 0 {
			d.bu = append(d.bu[:0], r.bu...)
		}
		if h&fBT != 0 {
			bt = r.bt
		}
		if h&fBV != 0 {
			bv = r.bv
		}
		if h&fBS != 0 {
			bs, hasBS = r.bs, true
		}
		if h&fRegular == 0 && h != 0 {
			continue // a record of base fields only
		}
		switch n := bits.OnesCount16(uint16(h & fValues)); {
		case n > 1:
			return senmlError(idx, smartdeal.ErrMalformedPayload, "more than one value field")
		case n == 0 && h&fS == 0:
			return senmlError(idx, smartdeal.ErrMalformedPayload, "no value and no sum")
		}
		rc := senmlRec{idx: idx, has: h & (fValues | fUT)}

		off := len(d.arena)
		d.arena = append(d.arena, d.bn...)
		d.arena = append(d.arena, r.n...)
		if !validSenMLName(d.arena[off:]) {
			return senmlError(idx, smartdeal.ErrMalformedPayload, "invalid or empty name %q", truncate(string(d.arena[off:]), 80))
		}
		rc.name = span{off, len(d.arena)}

		unit := d.bu
		if h&fU != 0 {
			unit = r.u
		}
		if string(d.arena[lastUnit.off:lastUnit.end]) == string(unit) {
			rc.unit = lastUnit
		} else {
			off = len(d.arena)
			d.arena = append(d.arena, unit...)
			rc.unit = span{off, len(d.arena)}
			lastUnit = rc.unit
		}

		t := bt + r.t
		switch {
		case t >= senmlRelativeLimit:
			if t >= senmlMaxAbsolute {
				return senmlError(idx, smartdeal.ErrInvalidTime, "time %g after year 9999", t)
			}
			sec := math.Floor(t)
			us := math.Round((t - sec) * 1e6)
			rc.t = time.Unix(int64(sec), int64(us)*1e3).UTC()
		case t >= senmlMinRelative:
			rc.t = now.Add(time.Duration(math.Round(t*1e6)) * time.Microsecond).UTC()
		default:
			return senmlError(idx, smartdeal.ErrInvalidTime, "relative time %g more than %d s in the past", t, int64(-senmlMinRelative))
		}

		switch {
		case h&fV != 0:
			rc.v = r.v
			if bv != 0 { // adding a zero would turn -0 into +0
				rc.v += bv
			}
			if math.IsInf(rc.v, 0) {
				return senmlError(idx, smartdeal.ErrInvalidValue, "bv+v overflows")
			}
		case h&fVB != 0:
			rc.vb = r.vb
		case h&fVS != 0:
			off = len(d.arena)
			d.arena = append(d.arena, r.vs...)
			rc.str = span{off, len(d.arena)}
		case h&fVD != 0:
			if !validBase64URL(r.vd) {
				return senmlError(idx, smartdeal.ErrInvalidValue, "vd must be base64url without padding")
			}
			off = len(d.arena)
			d.arena = append(d.arena, r.vd...)
			rc.str = span{off, len(d.arena)}
		}
		if h&fS != 0 || hasBS {
			rc.has |= fS
			rc.s = r.s
			if bs != 0 {
				rc.s += bs
			}
			if math.IsInf(rc.s, 0) {
				return senmlError(idx, smartdeal.ErrInvalidValue, "bs+s overflows")
			}
		}
		rc.ut = r.ut
		d.recs = append(d.recs, rc)
	}
}
