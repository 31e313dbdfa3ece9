package senml

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

// Fuzz targets. Run one at a time, e.g.
//
//	go test -run=NONE -fuzz=FuzzDecode -fuzztime=30s .
//	go test -run=NONE -fuzz=FuzzDifferential -fuzztime=30s .
//
// Inputs that found a bug are committed under testdata/fuzz/<target>/.

var fuzzNow = time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)

func addSenMLSeeds(f *testing.F) {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "senml_vectors.json"))
	if err != nil {
		f.Fatal(err)
	}
	var v senmlVectors
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, c := range v.Cases {
		for _, raw := range []json.RawMessage{c.Input, c.InputRFC} {
			if len(raw) > 0 {
				f.Add([]byte(raw))
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "core-wg", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(gatewayPack)
	for _, s := range []string{
		`[{"bn":"nice:gw1:","bt":1795775400,"n":"temperature","u":"Cel","v":21.5},{"n":"mission","vs":"survey-12"},{"n":"label","vs":"a\u00e9\ud83d\ude00\"\\","t":-1.5}]`,
		`[{"bn":"gw1/","n":"rain","u":"m","v":-0,"s":1e-7,"ut":60},{"n":"door","vb":true,"x":[{"y":null}]},{"n":"blob","vd":"AQID_w"}]`,
		`[{"n":"a","v":1,"\u0076":2}]`,
		`[{"n":"a","vs":"\ud800\udc00\ud800x\udc00"}]`,
		`[{"bver":5,"n":"a","v":1e308,"bv":1e308}]`,
		`[{"n":"a","v":123456789012345678,"t":1.7976931348623157e308}]`,
	} {
		f.Add([]byte(s))
	}
}

// FuzzDecode checks properties of whatever the decoder accepts: decoding
// is deterministic, resolved records follow RFC 8428, and readings survive a
// round trip through EncodeReadings.
func FuzzDecode(f *testing.F) {
	addSenMLSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := Decode(data, fuzzNow)
		if err != nil {
			if !errors.Is(err, smartdeal.ErrMalformedPayload) && !errors.Is(err, smartdeal.ErrInvalidValue) && !errors.Is(err, smartdeal.ErrInvalidTime) {
				t.Fatalf("error wraps no payload sentinel: %v", err)
			}
		} else {
			again, err := Decode(data, fuzzNow)
			if err != nil {
				t.Fatalf("second decode: %v", err)
			}
			if d := diffResolved(rs, again); d != "" {
				t.Fatalf("second decode differs: %s", d)
			}
			for i, r := range rs {
				checkResolved(t, i, r)
			}
			if !slices.IsSortedFunc(rs, compareResolvedTime) {
				t.Fatalf("records not in chronological order")
			}
		}

		readings, err := Readings("nice", "gw1", data, fuzzNow, nil)
		if err != nil {
			return
		}
		if rs == nil {
			t.Fatalf("Readings accepted what Decode rejected")
		}
		for i, r := range readings {
			if err := r.Validate(fuzzNow); err != nil {
				t.Fatalf("reading %d does not validate: %v", i, err)
			}
		}
		enc, err := EncodeReadings("nice", "gw1", readings)
		if err != nil {
			t.Fatalf("EncodeReadings of decoded readings: %v", err)
		}
		back, err := Readings("nice", "gw1", enc, fuzzNow, nil)
		if err != nil {
			t.Fatalf("decode of re-encoded readings: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(back, readings) {
			t.Fatalf("round trip:\n got %+v\nwant %+v\n%s", back, readings, enc)
		}
	})
}

func checkResolved(t *testing.T, i int, r ResolvedRecord) {
	t.Helper()
	if !validSenMLName([]byte(r.Name)) {
		t.Fatalf("record %d: invalid name %q", i, r.Name)
	}
	values := 0
	for _, p := range []bool{r.Value != nil, r.StringValue != nil, r.BoolValue != nil, r.DataValue != nil} {
		if p {
			values++
		}
	}
	if values > 1 || values == 0 && r.Sum == nil {
		t.Fatalf("record %d: %d values", i, values)
	}
	for _, p := range []*float64{r.Value, r.Sum, r.UpdateTime} {
		if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
			t.Fatalf("record %d: non-finite number", i)
		}
	}
	if r.Time.IsZero() || r.Time.Nanosecond()%1000 != 0 { // fuzzNow is on a microsecond too
		t.Fatalf("record %d: time %v not on a microsecond", i, r.Time)
	}
	if r.DataValue != nil && !validBase64URL(*r.DataValue) {
		t.Fatalf("record %d: vd %q", i, *r.DataValue)
	}
	if r.Version < 1 || r.Version > Version {
		t.Fatalf("record %d: version %d", i, r.Version)
	}
}

// FuzzDifferential decodes each input with the hand-written scanner and
// with the encoding/json reference; they must accept the same packs and
// resolve them to the same records.
func FuzzDifferential(f *testing.F) {
	addSenMLSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data, fuzzNow)
		ref, refErr := refDecodeSenML(data, fuzzNow)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("decoder error: %v\nreference error: %v", err, refErr)
		}
		if d := diffResolved(got, ref); d != "" {
			t.Fatalf("decoder and reference differ: %s", d)
		}
	})
}

// FuzzEncode checks Encode against encoding/json.
func FuzzEncode(f *testing.F) {
	f.Add("urn:dev:ow:10e2073a0108006:", "Cel", "voltage", "Machine Room", 1276020076.001, -5.0, 120.1, 1e21, 5)
	f.Add("", "", "a<b>&c\u2028", "\xff\x00\"\\", 0.0, 1e-7, math.Copysign(0, -1), math.MaxFloat64, -1)
	f.Fuzz(func(t *testing.T, bn, bu, n, vs string, bt, tm, v, s float64, ver int) {
		p := Pack{
			{BaseName: bn, BaseTime: bt, BaseUnit: bu, BaseVersion: &ver, Name: n, Value: &v, Time: tm},
			{Name: n, StringValue: &vs, Sum: &s, UpdateTime: &tm},
		}
		got, err := Encode(p)
		want, wantErr := json.Marshal(p)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Encode error %v, encoding/json error %v", err, wantErr)
		}
		if string(got) != string(want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
