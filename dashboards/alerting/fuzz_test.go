package alerting

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzRule decodes a rule as the JSON API will (phase 2), validates it and,
// when it is valid, steps samples made of the rest of the input through
// every level: nothing panics, a valid rule stays valid, Fire only comes
// from a state that is not firing and Clear only from one that is.
func FuzzRule(f *testing.F) {
	for _, seed := range []string{
		`{"name":"Roya","kind":"above","quantity":"water_level","hold":600000000000,"levels":[{"severity":"orange","threshold":2.5,"clear":2.3},{"severity":"rouge","threshold":3.2}]}`,
		`{"name":"crue","kind":"rate","quantity":"water_level","window":900000000000,"levels":[{"severity":"rouge","threshold":0.2}]}`,
		`{"name":"vidange","kind":"rate","quantity":"q","window":1000000000,"levels":[{"severity":"jaune","threshold":-0.5,"clear":-0.1}]}`,
		`{"name":"muet","kind":"no_data","quantity":"pm10","hold":1800000000000,"levels":[{"severity":"jaune"}]}`,
		`{"name":"air","kind":"atmo","site":"nice-port","levels":[{"severity":"orange","threshold":3,"clear":2}]}`,
		`{"name":"off","kind":"offline","levels":[{"severity":"jaune"}]}`,
		`{"name":"x","kind":"below","quantity":"q","levels":[{"severity":"violet","threshold":1e308}]}`,
		`{"levels":null}`, `[]`, `{"name":"` + "\xff" + `"}`,
	} {
		f.Add([]byte(seed), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	}
	f.Fuzz(func(t *testing.T, rule, samples []byte) {
		var r Rule
		if json.Unmarshal(rule, &r) != nil || r.Validate() != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("valid rule became invalid: %v", err)
		}
		for lv := range r.Levels {
			var st State
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := 0; i+4 <= len(samples) && i < 400; i += 4 {
				at := t0.Add(time.Duration(binary.LittleEndian.Uint16(samples[i:])) * time.Second)
				v := float64(int16(binary.LittleEndian.Uint16(samples[i+2:]))) / 100
				if math.IsNaN(v) {
					continue
				}
				before := st.Phase
				var ev Event
				st, ev = Step(&r, lv, st, Sample{Time: at, Value: v})
				switch {
				case ev.Type == Fire && before == Firing:
					t.Fatalf("fired while firing: %+v", st)
				case ev.Type == Clear && before != Firing:
					t.Fatalf("cleared from %s", before)
				case ev.Type == Fire && ev.From.After(ev.To):
					t.Fatalf("fire from %s after %s", ev.From, ev.To)
				}
				if len(st.Window) > WindowBuckets+1 {
					t.Fatalf("window of %d samples", len(st.Window))
				}
			}
		}
	})
}
