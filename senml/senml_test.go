package senml

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

var testNow = time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

// tsec is testNow's Unix time in seconds, to write absolute SenML times.
var tsec = testNow.Unix()

// TestReadingsFromSenML covers the naming convention, the value kinds, the
// mission record and validation. Each input is decoded twice into a dst that
// already holds a reading, to catch leaked decoder state and appends that
// clobber dst.
func TestReadingsFromSenML(t *testing.T) {
	sentinel := smartdeal.Reading{Site: "x", Device: "y", Quantity: "kept"}
	f := func(name, in string, want []smartdeal.Reading, wantErr error) {
		t.Helper()
		for pass := range 2 {
			dst := []smartdeal.Reading{sentinel}
			got, err := Readings("nice", "gw1", []byte(in), testNow, dst)
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					t.Errorf("%s pass %d: error %v, want %v", name, pass, err, wantErr)
				}
				if len(got) != 1 || &got[0] != &dst[0] {
					t.Errorf("%s: dst changed on error: %v", name, got)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s pass %d: %v", name, pass, err)
				continue
			}
			if got[0] != sentinel {
				t.Errorf("%s: dst[0] clobbered", name)
			}
			if !reflect.DeepEqual(got[1:], want) {
				t.Errorf("%s pass %d:\n got %+v\nwant %+v", name, pass, got[1:], want)
			}
		}
	}
	at := func(sec float64) time.Time {
		s := math.Floor(sec)
		return time.Unix(int64(s), int64(math.Round((sec-s)*1e6))*1e3).UTC()
	}
	num := func(q, unit string, tm time.Time, v float64) smartdeal.Reading {
		return smartdeal.Reading{Site: "nice", Device: "gw1", Quantity: q, Unit: unit, Time: tm, Kind: smartdeal.KindNumber, Number: v}
	}
	t0 := float64(tsec - 60)
	ts := fmt.Sprint(tsec - 60)

	// Names: quantity alone, under the device, under site and device, ':' or '/'.
	f("quantity", `[{"n":"temperature","u":"Cel","v":21.5}]`, []smartdeal.Reading{num("temperature", "Cel", testNow, 21.5)}, nil)
	f("device:quantity", `[{"n":"gw1:temperature","v":21.5,"t":`+ts+`}]`, []smartdeal.Reading{num("temperature", "", at(t0), 21.5)}, nil)
	f("site:device:quantity", `[{"bn":"nice:gw1:","bt":`+ts+`,"n":"temperature","u":"Cel","v":21.5},{"n":"pressure","u":"Pa","t":0.5,"v":101325}]`,
		[]smartdeal.Reading{num("temperature", "Cel", at(t0), 21.5), num("pressure", "Pa", at(t0+0.5), 101325)}, nil)
	f("slashes", `[{"bn":"nice/gw1/","n":"pm2_5","u":"ug/m3","v":7}]`, []smartdeal.Reading{num("pm2_5", "ug/m3", testNow, 7)}, nil)
	f("device/quantity", `[{"bn":"gw1/","n":"pm10","v":7}]`, []smartdeal.Reading{num("pm10", "", testNow, 7)}, nil)
	f("bn is the whole name", `[{"bn":"nice:gw1:water_level","bu":"m","v":1.25},{"t":-10,"v":1.5}]`,
		[]smartdeal.Reading{num("water_level", "m", testNow, 1.25), num("water_level", "m", testNow.Add(-10*time.Second), 1.5)}, nil)
	f("relative time", `[{"n":"temperature","t":-30.25,"v":1}]`, []smartdeal.Reading{num("temperature", "", testNow.Add(-30250*time.Millisecond), 1)}, nil)
	f("bv and bs", `[{"bn":"gw1:","bv":1000,"bs":5,"n":"energy","u":"J","v":1.5,"s":2}]`,
		[]smartdeal.Reading{{Site: "nice", Device: "gw1", Quantity: "energy", Unit: "J", Time: testNow, Kind: smartdeal.KindNumber, Number: 1001.5, Sum: 7, HasSum: true}}, nil)

	// Identity.
	for _, n := range []string{"gw2:temperature", "nice:gw2:temperature", "cannes:gw1:temperature",
		"urn:dev:ow:10e2073a01080063:temp", "a:nice:gw1:temperature", "nice::temperature", "nice:gw1:x:temperature"} {
		f("mismatch "+n, `[{"n":"`+n+`","v":1}]`, nil, smartdeal.ErrIdentityMismatch)
	}
	f("mismatch via bn", `[{"bn":"nice:gw1:","n":"a","v":1},{"bn":"nice:gw9:","n":"a","v":2}]`, nil, smartdeal.ErrIdentityMismatch)

	// Kinds.
	f("kinds", `[{"bn":"gw1:","n":"label","vs":"Vallon des Fleurs"},{"n":"door_open","vb":true},{"n":"blob","vd":"AQID_w"},{"n":"rain","u":"m","v":0,"s":0.0042}]`,
		[]smartdeal.Reading{
			{Site: "nice", Device: "gw1", Quantity: "label", Time: testNow, Kind: smartdeal.KindString, Text: "Vallon des Fleurs"},
			{Site: "nice", Device: "gw1", Quantity: "door_open", Time: testNow, Kind: smartdeal.KindBool, Bool: true},
			{Site: "nice", Device: "gw1", Quantity: "blob", Time: testNow, Kind: smartdeal.KindData, Text: "AQID_w"},
			{Site: "nice", Device: "gw1", Quantity: "rain", Unit: "m", Time: testNow, Kind: smartdeal.KindNumber, Sum: 0.0042, HasSum: true},
		}, nil)
	f("sum without value", `[{"n":"rain","u":"m","s":0.0042}]`, nil, smartdeal.ErrInvalidValue)
	f("string too long", `[{"n":"label","vs":"`+strings.Repeat("a", smartdeal.MaxTextLen+1)+`"}]`, nil, smartdeal.ErrInvalidValue)
	f("string at the limit", `[{"n":"label","vs":"`+strings.Repeat("é", smartdeal.MaxTextLen/2)+`"}]`,
		[]smartdeal.Reading{{Site: "nice", Device: "gw1", Quantity: "label", Time: testNow, Kind: smartdeal.KindString, Text: strings.Repeat("é", smartdeal.MaxTextLen/2)}}, nil)

	// Mission.
	withMission := func(rs ...smartdeal.Reading) []smartdeal.Reading {
		for i := range rs {
			rs[i].Mission = "survey-12"
		}
		return rs
	}
	f("mission applies to the whole pack", `[{"bn":"nice:gw1:","n":"altitude","u":"m","v":120},{"n":"mission","vs":"survey-12"},{"n":"latitude","u":"lat","v":43.7}]`,
		withMission(num("altitude", "m", testNow, 120), num("latitude", "lat", testNow, 43.7)), nil)
	f("mission repeated", `[{"n":"mission","vs":"survey-12"},{"n":"altitude","v":1},{"n":"mission","vs":"survey-12"}]`,
		withMission(num("altitude", "", testNow, 1)), nil)
	f("two missions", `[{"n":"mission","vs":"survey-12"},{"n":"altitude","v":1},{"n":"mission","vs":"survey-13"}]`, nil, smartdeal.ErrMalformedPayload)
	f("bad mission id", `[{"n":"mission","vs":"Survey 12"},{"n":"altitude","v":1}]`, nil, smartdeal.ErrInvalidID)
	f("numeric mission is a reading", `[{"n":"mission","v":3}]`, []smartdeal.Reading{num("mission", "", testNow, 3)}, nil)
	f("mission only", `[{"n":"mission","vs":"survey-12"}]`, nil, smartdeal.ErrMalformedPayload)

	// Validation of the readings.
	f("quantity with a dash", `[{"n":"temp-1","v":1}]`, nil, smartdeal.ErrInvalidQuantity)
	f("quantity in capitals", `[{"n":"Temperature","v":1}]`, nil, smartdeal.ErrInvalidQuantity)
	f("empty device", `[{"n":":temperature","v":1}]`, nil, smartdeal.ErrMalformedPayload)
	f("empty quantity", `[{"bn":"nice:gw1:","v":1}]`, nil, smartdeal.ErrInvalidQuantity)
	f("unit with a space", `[{"n":"temperature","u":"deg C","v":1}]`, nil, smartdeal.ErrInvalidValue)
	f("before 2000", `[{"n":"temperature","t":946684799,"v":1}]`, nil, smartdeal.ErrInvalidTime)
	f("1978 is absolute", `[{"n":"temperature","t":268435456,"v":1}]`, nil, smartdeal.ErrInvalidTime)
	f("11 minutes ahead", `[{"n":"temperature","t":660,"v":1}]`, nil, smartdeal.ErrInvalidTime)
	f("9 minutes ahead", `[{"n":"temperature","t":540,"v":1}]`, []smartdeal.Reading{num("temperature", "", testNow.Add(9*time.Minute), 1)}, nil)
	f("malformed", `[{"n":"temperature","v":"1"}]`, nil, smartdeal.ErrMalformedPayload)
	f("base only", `[{"bn":"nice:gw1:"}]`, nil, smartdeal.ErrMalformedPayload)
}

func TestReadingsFromSenMLBadIDs(t *testing.T) {
	in := []byte(`[{"n":"temperature","v":1}]`)
	if _, err := Readings("Nice", "gw1", in, testNow, nil); !errors.Is(err, smartdeal.ErrInvalidID) {
		t.Errorf("bad site: %v", err)
	}
	if _, err := Readings("nice", "", in, testNow, nil); !errors.Is(err, smartdeal.ErrInvalidID) {
		t.Errorf("bad device: %v", err)
	}
}

// TestSenMLErrorsNameTheRecord checks that errors say which record failed.
func TestSenMLErrorsNameTheRecord(t *testing.T) {
	for in, want := range map[string]string{
		`[{"n":"a","v":1},{"n":"b","v":1},{"n":"c d","v":1}]`: "record 2",
		`[{"n":"a","v":1},{"n":"b","v":true}]`:                "record 1",
		`[{"n":"a","v":1},{"n":"b","v":1e999}]`:               "record 1",
		`{"n":"a","v":1}`:                                     "pack must be a JSON array",
		`[{"n":"a","v":1}] x`:                                 "data after the pack",
	} {
		_, err := Decode([]byte(in), testNow)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to contain %q", in, err, want)
		}
	}
}

// TestDecodeSenMLHostile feeds payloads an attacker or a broken device could
// send. The decoder must reject them (or accept them) without crashing,
// within bounded work, and agree with the encoding/json reference (on inputs
// up to 1 MB).
func TestDecodeSenMLHostile(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	f := func(name, in string, wantErr error) {
		t.Helper()
		got, err := Decode([]byte(in), testNow)
		if len(in) <= 1<<20 { // the reference is slow; the fuzzer compares small inputs
			ref, refErr := refDecodeSenML([]byte(in), testNow)
			if (err == nil) != (refErr == nil) {
				t.Errorf("%s: decoder error %v, reference error %v", name, err, refErr)
			} else if d := diffResolved(got, ref); d != "" {
				t.Errorf("%s: decoder and reference differ: %s", name, d)
			}
		}
		switch {
		case wantErr == nil && err != nil:
			t.Errorf("%s: %v", name, err)
		case wantErr != nil && !errors.Is(err, wantErr):
			t.Errorf("%s: error %v, want %v", name, err, wantErr)
		}
	}
	f("deep nesting in an unknown label", `[{"n":"a","v":1,"x":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}]`, smartdeal.ErrMalformedPayload)
	f("nesting at the limit", `[{"n":"a","v":1,"x":`+strings.Repeat(`[{"k":`, 16)+"1"+strings.Repeat("}]", 16)+`}]`, nil)
	f("nesting one past the limit", `[{"n":"a","v":1,"x":`+strings.Repeat("[", 33)+strings.Repeat("]", 33)+`}]`, smartdeal.ErrMalformedPayload)
	f("deep nesting as the pack", strings.Repeat("[", 100000), smartdeal.ErrMalformedPayload)
	f("10 MB string value", `[{"n":"a","vs":"`+big+`"}]`, nil)
	f("10 MB name", `[{"n":"`+big+`","v":1}]`, nil)
	f("10 MB unknown label", `[{"n":"a","v":1,"`+big+`":1}]`, nil)
	f("10 MB escaped string", `[{"n":"a","vs":"`+strings.Repeat(`\n`, 5<<20)+`"}]`, nil)
	f("huge number", `[{"n":"a","v":1e400}]`, smartdeal.ErrInvalidValue)
	f("huge negative number", `[{"n":"a","v":-1e400}]`, smartdeal.ErrInvalidValue)
	f("huge time", `[{"n":"a","v":1,"t":1e400}]`, smartdeal.ErrInvalidTime)
	f("time after 9999", `[{"n":"a","v":1,"t":1e300}]`, smartdeal.ErrInvalidTime)
	f("relative time before the year 1700", `[{"n":"a","v":1,"t":-1e11}]`, smartdeal.ErrInvalidTime)
	f("bt+t overflow", `[{"bt":1.7e308,"n":"a","v":1,"t":1.7e308}]`, smartdeal.ErrInvalidTime)
	f("bv+v overflow", `[{"bv":1.7e308,"n":"a","v":1.7e308}]`, smartdeal.ErrInvalidValue)
	f("bs+s overflow", `[{"bs":-1.7e308,"n":"a","s":-1.7e308}]`, smartdeal.ErrInvalidValue)
	f("tiny number", `[{"n":"a","v":1e-400}]`, nil)
	f("long mantissa", `[{"n":"a","v":0.`+strings.Repeat("1", 1000)+`}]`, nil)
	f("huge number in an unknown label", `[{"n":"a","v":1,"x":1e99999}]`, nil)
	f("invalid UTF-8 in a name", "[{\"n\":\"a\xff\",\"v\":1}]", smartdeal.ErrMalformedPayload)
	f("invalid UTF-8 in a string value", "[{\"n\":\"a\",\"vs\":\"\xc3\x28\"}]", smartdeal.ErrMalformedPayload)
	f("invalid UTF-8 in an unknown label", "[{\"n\":\"a\",\"v\":1,\"\xed\xa0\x80\":1}]", smartdeal.ErrMalformedPayload)
	f("invalid UTF-8 outside strings", "[{\"n\":\"a\",\"v\":1}\xff]", smartdeal.ErrMalformedPayload)
	f("overlong UTF-8", "[{\"n\":\"a\",\"vs\":\"\xc0\xaf\"}]", smartdeal.ErrMalformedPayload)
	f("raw control character in a string", "[{\"n\":\"a\",\"vs\":\"x\x01y\"}]", smartdeal.ErrMalformedPayload)
	f("escaped control character in a name", `[{"n":"a\u0007b","v":1}]`, smartdeal.ErrMalformedPayload)
	f("newline in a name", `[{"n":"a\nb","v":1}]`, smartdeal.ErrMalformedPayload)
	f("NUL in a name", `[{"n":"a\u0000","v":1}]`, smartdeal.ErrMalformedPayload)
	f("escaped control characters in a string value", `[{"n":"a","vs":"\u0000\t\r\n"}]`, nil)
	f("lone surrogate", `[{"n":"a","vs":"\ud800x"}]`, nil)
	f("surrogate pair", `[{"n":"a","vs":"\ud83d\ude00"}]`, nil)
	f("bad escape", `[{"n":"a","vs":"\x"}]`, smartdeal.ErrMalformedPayload)
	f("short unicode escape", `[{"n":"a","vs":"\u12"}]`, smartdeal.ErrMalformedPayload)
	f("duplicate label", `[{"n":"a","v":1,"v":2}]`, smartdeal.ErrMalformedPayload)
	f("duplicate label through an escape", `[{"n":"a","v":1,"\u0076":2}]`, smartdeal.ErrMalformedPayload)
	f("duplicate unknown label", `[{"n":"a","v":1,"x":1,"x":2}]`, smartdeal.ErrMalformedPayload)
	f("labels are case sensitive", `[{"N":"a","V":1}]`, smartdeal.ErrMalformedPayload)
	f("too many unknown labels", `[{"n":"a","v":1`+strings.Repeat(`,"x"`, 0)+manyLabels(33)+`}]`, smartdeal.ErrMalformedPayload)
	f("unknown labels at the limit", `[{"n":"a","v":1`+manyLabels(32)+`}]`, nil)
	f("trailing garbage", `[{"n":"a","v":1}]]`, smartdeal.ErrMalformedPayload)
	f("trailing comma", `[{"n":"a","v":1},]`, smartdeal.ErrMalformedPayload)
	f("two packs", `[{"n":"a","v":1}][{"n":"a","v":1}]`, smartdeal.ErrMalformedPayload)
	f("not an array", `{"n":"a","v":1}`, smartdeal.ErrMalformedPayload)
	f("empty pack", `[]`, smartdeal.ErrMalformedPayload)
	f("empty payload", ``, smartdeal.ErrMalformedPayload)
	f("blank payload", " \n\t", smartdeal.ErrMalformedPayload)
	f("byte order mark", "\xef\xbb\xbf[{\"n\":\"a\",\"v\":1}]", smartdeal.ErrMalformedPayload)
	f("empty record", `[{}]`, smartdeal.ErrMalformedPayload)
	f("record not an object", `[1]`, smartdeal.ErrMalformedPayload)
	f("null record", `[null]`, smartdeal.ErrMalformedPayload)
	f("null value", `[{"n":"a","v":null}]`, smartdeal.ErrMalformedPayload)
	f("number with a plus", `[{"n":"a","v":+1}]`, smartdeal.ErrMalformedPayload)
	f("number with a leading zero", `[{"n":"a","v":01}]`, smartdeal.ErrMalformedPayload)
	f("hex number", `[{"n":"a","v":0x10}]`, smartdeal.ErrMalformedPayload)
	f("NaN", `[{"n":"a","v":NaN}]`, smartdeal.ErrMalformedPayload)
	f("Infinity", `[{"n":"a","v":Infinity}]`, smartdeal.ErrMalformedPayload)
	f("bver zero", `[{"bver":0,"n":"a","v":1}]`, smartdeal.ErrMalformedPayload)
	f("bver negative", `[{"bver":-10,"n":"a","v":1}]`, smartdeal.ErrMalformedPayload)
	f("bver not an integer", `[{"bver":10.0,"n":"a","v":1}]`, smartdeal.ErrMalformedPayload)
	f("bver huge", `[{"bver":99999999999999999999,"n":"a","v":1}]`, smartdeal.ErrMalformedPayload)
	f("bver after default", `[{"n":"a","v":1},{"bver":5,"n":"b","v":1}]`, smartdeal.ErrMalformedPayload)
	f("bver 10 after default", `[{"n":"a","v":1},{"bver":10,"n":"b","v":1}]`, nil)
	f("vd with a bad length", `[{"n":"a","vd":"AQIDB"}]`, smartdeal.ErrInvalidValue)
	f("vd with standard alphabet", `[{"n":"a","vd":"AQ+/"}]`, smartdeal.ErrInvalidValue)
	f("unterminated", `[{"n":"a","v":1`, smartdeal.ErrMalformedPayload)
	f("unterminated string", `[{"n":"a`, smartdeal.ErrMalformedPayload)
}

func manyLabels(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"x%d":%d`, i, i)
	}
	return b.String()
}

// TestDecodeSenMLHugeString checks that a 10 MB string costs one copy, not
// quadratic work, and that readings refuse it.
func TestDecodeSenMLHugeString(t *testing.T) {
	in := []byte(`[{"n":"label","vs":"` + strings.Repeat("é", 5<<20) + `"}]`)
	rs, err := Decode(in, testNow)
	if err != nil || len(rs) != 1 || len(*rs[0].StringValue) != 10<<20 {
		t.Fatalf("Decode: %v", err)
	}
	if _, err := Readings("nice", "gw1", in, testNow, nil); !errors.Is(err, smartdeal.ErrInvalidValue) {
		t.Fatalf("Readings: %v, want smartdeal.ErrInvalidValue", err)
	}
}

func TestEncodeReadingsRoundTrip(t *testing.T) {
	base := time.Date(2026, 11, 27, 10, 29, 0, 123456789, time.UTC)
	rs := []smartdeal.Reading{
		{Quantity: "temperature", Unit: "Cel", Time: base, Kind: smartdeal.KindNumber, Number: 21.37},
		{Quantity: "relative_humidity", Unit: "%RH", Time: base, Kind: smartdeal.KindNumber, Number: math.Copysign(0, -1)},
		{Quantity: "pressure", Unit: "Pa", Time: base.Add(1500 * time.Millisecond), Kind: smartdeal.KindNumber, Number: 101325.5},
		{Quantity: "earlier", Time: base.Add(-2*time.Second - 7*time.Microsecond), Kind: smartdeal.KindNumber, Number: 1e-9},
		{Quantity: "big", Time: base.Add(time.Hour), Kind: smartdeal.KindNumber, Number: 1.7976931348623157e308},
		{Quantity: "status", Time: base.Add(time.Microsecond), Kind: smartdeal.KindString, Text: "tout va bien <ok> & \"quoted\" \\ \n\u2028 été"},
		{Quantity: "door_open", Time: base, Kind: smartdeal.KindBool, Bool: true},
		{Quantity: "frame", Time: base, Kind: smartdeal.KindData, Text: "AQID_w"},
		{Quantity: "energy", Unit: "J", Time: base, Kind: smartdeal.KindNumber, Number: 3, Sum: 12345.678, HasSum: true},
	}
	for i := range rs {
		rs[i].Site, rs[i].Device, rs[i].Mission = "nice", "drone-3", "survey-12"
	}
	data, err := EncodeReadings("nice", "drone-3", rs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Readings("nice", "drone-3", data, base.Add(time.Hour), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := append([]smartdeal.Reading(nil), rs...)
	for i := range want {
		want[i].Time = want[i].Time.Truncate(time.Microsecond)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n%s", got, want, data)
	}
	if math.Signbit(got[1].Number) != true {
		t.Errorf("-0 lost its sign")
	}
	// The pack is also valid for a generic SenML decoder.
	if _, err := Decode(data, base); err != nil {
		t.Fatal(err)
	}

	// The exact form, for the docs and for other implementations.
	one, err := EncodeReadings("nice", "gw1", []smartdeal.Reading{
		{Site: "nice", Device: "gw1", Quantity: "temperature", Unit: "Cel", Time: time.Unix(1764239400, 125000000), Number: 21.5},
		{Site: "nice", Device: "gw1", Quantity: "pressure", Unit: "Pa", Time: time.Unix(1764239405, 0), Number: 101325},
	})
	if err != nil {
		t.Fatal(err)
	}
	const wantOne = `[{"bn":"nice:gw1:","bt":1764239400.125,"n":"temperature","u":"Cel","v":21.5},{"n":"pressure","u":"Pa","t":4.875,"v":101325}]`
	if string(one) != wantOne {
		t.Errorf("EncodeReadings:\n got %s\nwant %s", one, wantOne)
	}
}

func TestEncodeReadingsErrors(t *testing.T) {
	ok := smartdeal.Reading{Site: "nice", Device: "gw1", Quantity: "temperature", Time: testNow, Number: 1}
	f := func(name string, wantErr error, mod func(r *smartdeal.Reading)) {
		t.Helper()
		r := ok
		mod(&r)
		dst := []byte("keep")
		got, err := AppendReadings(dst, "nice", "gw1", []smartdeal.Reading{ok, r})
		if !errors.Is(err, wantErr) {
			t.Errorf("%s: error %v, want %v", name, err, wantErr)
		}
		if string(got) != "keep" {
			t.Errorf("%s: dst changed on error: %q", name, got)
		}
	}
	f("other device", smartdeal.ErrIdentityMismatch, func(r *smartdeal.Reading) { r.Device = "gw2" })
	f("other site", smartdeal.ErrIdentityMismatch, func(r *smartdeal.Reading) { r.Site = "cannes" })
	f("two missions", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Mission = "m2" })
	f("NaN", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Number = math.NaN() })
	f("infinite sum", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Sum, r.HasSum = math.Inf(1), true })
	f("bad quantity", smartdeal.ErrInvalidQuantity, func(r *smartdeal.Reading) { r.Quantity = "Temp" })
	f("bad unit", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Unit = `"` })
	f("1970", smartdeal.ErrInvalidTime, func(r *smartdeal.Reading) { r.Time = time.Unix(60, 0) })
	f("zero time", smartdeal.ErrInvalidTime, func(r *smartdeal.Reading) { r.Time = time.Time{} })
	f("invalid UTF-8", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Kind, r.Text = smartdeal.KindString, "\xff" })
	f("bad base64url", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Kind, r.Text = smartdeal.KindData, "AQ==" })
	f("too long", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) {
		r.Kind, r.Text = smartdeal.KindString, strings.Repeat("a", smartdeal.MaxTextLen+1)
	})
	f("bad kind", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Kind = 9 })
	f("string named mission", smartdeal.ErrInvalidValue, func(r *smartdeal.Reading) { r.Quantity, r.Kind, r.Text = "mission", smartdeal.KindString, "m1" })
	if _, err := EncodeReadings("nice", "gw1", nil); !errors.Is(err, smartdeal.ErrMalformedPayload) {
		t.Errorf("no readings: %v", err)
	}
	if _, err := EncodeReadings("Nice", "gw1", []smartdeal.Reading{ok}); !errors.Is(err, smartdeal.ErrInvalidID) {
		t.Errorf("bad site: %v", err)
	}
}

// TestEncodeSenMLMatchesEncodingJSON checks Encode byte for byte
// against encoding/json, and that the packs decode back.
func TestEncodeSenMLMatchesEncodingJSON(t *testing.T) {
	fp := func(x float64) *float64 { return &x }
	sp := func(s string) *string { return &s }
	bp := func(b bool) *bool { return &b }
	ip := func(i int) *int { return &i }
	packs := []Pack{
		{{BaseName: "urn:dev:ow:10e2073a0108006:", BaseTime: 1276020076.001, BaseUnit: "A", BaseVersion: ip(5), Name: "voltage", Unit: "V", Value: fp(120.1)},
			{Name: "current", Time: -5, Value: fp(1.2)}, {Name: "current", Value: fp(0)}},
		{{BaseName: "m:", BaseValue: fp(math.Copysign(0, -1)), BaseSum: fp(1e21), Name: "e", Sum: fp(1e-7), UpdateTime: fp(300)},
			{Name: "s", StringValue: sp("<&> \"\\ \x01\x1f\u2028\u2029 é \xff"), Time: 1e-6},
			{Name: "b", BoolValue: bp(false)}, {Name: "d", DataValue: sp("AQID_w")},
			{Name: "f", Value: fp(123456789012345678901234567890.0)}, {Name: "g", Value: fp(-5e-324)}},
	}
	for i, p := range packs {
		got, err := Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(p)
		if string(got) != string(want) {
			t.Errorf("pack %d:\n got %s\nwant %s", i, got, want)
		}
		var back Pack
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("pack %d does not parse: %v", i, err)
		}
	}
	if _, err := Encode(Pack{{Name: "a", Value: fp(math.NaN())}}); !errors.Is(err, smartdeal.ErrInvalidValue) {
		t.Errorf("NaN: %v", err)
	}
	if _, err := Encode(Pack{{Name: "a", Time: math.Inf(1), Value: fp(1)}}); !errors.Is(err, smartdeal.ErrInvalidValue) {
		t.Errorf("Inf: %v", err)
	}
	if _, err := Encode(nil); !errors.Is(err, smartdeal.ErrMalformedPayload) {
		t.Errorf("empty: %v", err)
	}
	// A pack written by Encode resolves like the RFC says.
	data, _ := Encode(packs[0])
	rs, err := Decode(data, testNow)
	if err != nil || len(rs) != 3 || rs[0].Name != "urn:dev:ow:10e2073a0108006:current" || rs[0].Unit != "A" ||
		rs[0].Time.UnixMicro() != 1276020071001000 || rs[0].Version != 5 {
		t.Errorf("decode of encoded pack: %v %+v", err, rs)
	}
}
