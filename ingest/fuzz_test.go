package ingest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/influxschema"
)

// FuzzDecodeEncode feeds arbitrary payloads through the decode path and
// checks what would be written: every accepted payload becomes line protocol
// that parses back to exactly the points decoded, all under the topic's
// site and device, in measurement "telemetry" — whatever a payload holds, it
// cannot inject points, tags or series of its own.
func FuzzDecodeEncode(f *testing.F) {
	for _, seed := range []string{
		`[{"n":"temperature","u":"Cel","v":21.5}]`,
		`[{"bn":"station:","bt":1.7e9,"bu":"%RH","n":"relative_humidity","v":65.3},{"n":"t","vs":"a\"b\\c\nd"}]`,
		`[{"n":"door","vb":true},{"n":"blob","vd":"AAEC"},{"n":"rain","v":0.2,"s":12.5}]`,
		`[{"n":"mission","vs":"m-1"},{"n":"latitude","u":"lat","v":43.7}]`,
		"temperature,unit=Cel value=21.5\n",
		"weather,unit=Pa pressure=101325i,ok=true,status=\"fine\" 1795770000000000000\n# comment\n",
		"temperature,unit=C\\,site=paris value=1",
		"m value=1\nm value=2 1\n",
		`{"n":"x"}`,
		"",
	} {
		f.Add([]byte(seed))
	}
	svc, err := New(DefaultConfig(), Deps{Store: storeFunc(func(context.Context, []byte) error { return nil }),
		Encode: influxschema.AppendPoints, DeadLetters: nopPublisher{}})
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	svc.now = func() time.Time { return now }
	f.Fuzz(func(t *testing.T, payload []byte) {
		m := &benchMsg{topic: "smartdeal/v1/nice/station/telemetry", payload: payload}
		rs, it, reason, err := svc.decode(m, nil)
		if err != nil {
			if reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if it.n != len(rs) || it.n == 0 {
			t.Fatalf("item has %d points, decoded %d", it.n, len(rs))
		}
		dec := lineprotocol.NewDecoderWithBytes(it.points)
		n := 0
		for dec.Next() {
			n++
			meas, err := dec.Measurement()
			if err != nil || string(meas) != influxschema.Measurement {
				t.Fatalf("point %d: measurement %q, %v\n%s", n, meas, err, it.points)
			}
			tags := map[string]string{}
			for {
				k, v, err := dec.NextTag()
				if err != nil {
					t.Fatalf("point %d: tag: %v\n%s", n, err, it.points)
				}
				if k == nil {
					break
				}
				tags[string(k)] = string(v)
			}
			if tags["site"] != "nice" || tags["device"] != "station" || !smartdeal.ValidQuantity(tags["quantity"]) {
				t.Fatalf("point %d: tags %v\n%s", n, tags, it.points)
			}
			for k := range tags {
				switch k {
				case "site", "device", "quantity", "unit", "mission":
				default:
					t.Fatalf("point %d: unexpected tag %q", n, k)
				}
			}
			fields := 0
			for {
				k, _, err := dec.NextField()
				if err != nil {
					t.Fatalf("point %d: field: %v\n%s", n, err, it.points)
				}
				if k == nil {
					break
				}
				fields++
			}
			ts, err := dec.Time(lineprotocol.Nanosecond, time.Time{})
			if err != nil || ts.IsZero() {
				t.Fatalf("point %d: time %v %v", n, ts, err)
			}
			if !ts.Equal(rs[n-1].Time) {
				t.Fatalf("point %d: time %v, reading %v", n, ts, rs[n-1].Time)
			}
		}
		if n != it.n {
			t.Fatalf("line protocol holds %d points, want %d:\n%s", n, it.n, it.points)
		}
		if !bytes.HasSuffix(it.points, []byte("\n")) {
			t.Fatal("points do not end with a newline")
		}
	})
}
