// Package influxschema is the InfluxDB schema of the platform, owned here
// and only here: the measurement, tag and field names that every writer and
// reader of the measurements uses, and the line-protocol point of a reading
// (AppendPoints), which the ingest writes. It is a leaf (standard library and
// the domain package only) so that the write adapter (ingest/influxstore) and
// the read adapter (dashboards/measure) share it without importing each other.
// The schema and the queries it is designed for are in docs/influxdb-schema.md.
package influxschema

import (
	"math"
	"strconv"

	"github.com/cd06/smartdeal"
)

// Measurement is the one measurement every reading is written to.
const Measurement = "telemetry"

// Tag and field keys of the schema (see docs/influxdb-schema.md).
const (
	TagSite     = "site"
	TagDevice   = "device"
	TagQuantity = "quantity"
	TagUnit     = "unit"
	TagMission  = "mission"

	FieldValue = "value" // float, SenML v
	FieldText  = "text"  // string, SenML vs, and vd (base64url)
	FieldFlag  = "flag"  // bool, SenML vb
	FieldSum   = "sum"   // float, SenML s
)

// AppendPoints appends one line-protocol point per reading to dst, in the
// schema:
//
//	telemetry,device=<d>[,mission=<m>],quantity=<q>,site=<s>[,unit=<u>] value=<f>|text="…"|flag=<b>[,sum=<f>] <ns>
//
// Tags are in key order (what InfluxDB sorts to anyway). Readings must have been
// validated (smartdeal.Reading.Validate): identifiers, quantities and units
// then hold no character that line protocol would need escaped, so only the
// string field is escaped. The time is always written, in nanoseconds, so that
// a redelivered reading overwrites itself instead of adding a point.
func AppendPoints(dst []byte, rs []smartdeal.Reading) []byte {
	for i := range rs {
		dst = AppendPoint(dst, &rs[i])
	}
	return dst
}

// AppendPoint appends the line-protocol point of one validated reading,
// newline included.
func AppendPoint(dst []byte, r *smartdeal.Reading) []byte {
	dst = append(dst, Measurement+","+TagDevice+"="...)
	dst = append(dst, r.Device...)
	if r.Mission != "" {
		dst = append(dst, ","+TagMission+"="...)
		dst = append(dst, r.Mission...)
	}
	dst = append(dst, ","+TagQuantity+"="...)
	dst = append(dst, r.Quantity...)
	dst = append(dst, ","+TagSite+"="...)
	dst = append(dst, r.Site...)
	if r.Unit != "" {
		dst = append(dst, ","+TagUnit+"="...)
		dst = append(dst, r.Unit...)
	}
	dst = append(dst, ' ')
	switch r.Kind {
	case smartdeal.KindNumber:
		dst = append(dst, FieldValue+"="...)
		dst = appendFloat(dst, r.Number)
	case smartdeal.KindString, smartdeal.KindData:
		dst = append(dst, FieldText+`="`...)
		dst = appendEscaped(dst, r.Text)
		dst = append(dst, '"')
	case smartdeal.KindBool:
		dst = append(dst, FieldFlag+"="...)
		dst = strconv.AppendBool(dst, r.Bool)
	}
	if r.HasSum {
		dst = append(dst, ","+FieldSum+"="...)
		dst = appendFloat(dst, r.Sum)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, r.Time.UnixNano(), 10)
	return append(dst, '\n')
}

// appendFloat writes a float field value. Line protocol reads a bare number
// as a float (integers need an "i" suffix), so 21 stays a float.
func appendFloat(dst []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// appendEscaped escapes a string field value: line protocol needs '"' and
// '\' escaped, and a raw newline would end the point, so newlines and
// carriage returns are written as the two-character escapes "\n" and "\r"
// (InfluxDB stores those literally; readers of the text field unescape them).
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
