package senml

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

// senmlVectors is testdata/senml_vectors.json (a copy of the shared
// vectors: 13 RFC 8428 examples, 19 rule cases, 13 packs that must be rejected).
type senmlVectors struct {
	Cases []senmlCase `json:"cases"`
}

type senmlCase struct {
	ID           string            `json:"id"`
	Source       string            `json:"source"`
	Input        json.RawMessage   `json:"input"`
	InputRFC     json.RawMessage   `json:"input_rfc_text"`
	Expected     string            `json:"expected"` // "reject" or empty
	Resolved     []json.RawMessage `json:"expected_resolved"`
	OrderMatters bool              `json:"order_matters"`
}

// inputs returns the packs of a case: the vector's own input and, for the RFC
// examples, the core-wg/senml-spec file of the same example (four examples are
// given only as that file).
func (c senmlCase) inputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	for _, raw := range []json.RawMessage{c.Input, c.InputRFC} {
		if len(raw) > 0 && string(raw) != "null" {
			in["vector"] = raw
		}
	}
	if n, ok := strings.CutPrefix(c.ID, "rfc8428-"); ok {
		b, err := os.ReadFile(filepath.Join("testdata", "core-wg", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		in["core-wg "+n+".json"] = b
	}
	if len(in) == 0 {
		t.Fatalf("case %s has no input", c.ID)
	}
	return in
}

func loadSenMLVectors(t testing.TB) []senmlCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "senml_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v senmlVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Cases
}

// wantRecord is one expected resolved record of a vector.
type wantRecord struct {
	Name     string
	Unit     string
	Time     time.Time
	V, S, UT *float64
	VS, VD   *string
	VB       *bool
	Version  int
}

func parseWant(t *testing.T, raw json.RawMessage, now time.Time) wantRecord {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	w := wantRecord{Version: Version}
	get := func(k string, dst any) {
		if r, ok := m[k]; ok {
			if err := json.Unmarshal(r, dst); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
	}
	get("n", &w.Name)
	get("u", &w.Unit)
	get("v", &w.V)
	get("s", &w.S)
	get("ut", &w.UT)
	get("vs", &w.VS)
	get("vd", &w.VD)
	get("vb", &w.VB)
	get("bver", &w.Version)
	var rel struct {
		NowOffset *float64 `json:"now_offset"`
	}
	tr := m["t"]
	if err := json.Unmarshal(tr, &rel); err == nil && rel.NowOffset != nil {
		w.Time = now.Add(time.Duration(*rel.NowOffset * float64(time.Second)))
	} else {
		var abs float64
		if err := json.Unmarshal(tr, &abs); err != nil {
			t.Fatalf("t %s: %v", tr, err)
		}
		sec := math.Floor(abs)
		w.Time = time.Unix(int64(sec), int64(math.Round((abs-sec)*1e9)))
	}
	return w
}

func floatsEqual(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b || math.Abs(*a-*b) <= 1e-9*math.Max(math.Abs(*a), math.Abs(*b))
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func (w wantRecord) String() string {
	return fmt.Sprintf("{n=%s u=%s t=%s v=%s vs=%s vb=%s vd=%s s=%s ut=%s bver=%d}", w.Name, w.Unit,
		w.Time.UTC().Format(time.RFC3339Nano), fmtPtr(w.V), fmtPtr(w.VS), fmtPtr(w.VB), fmtPtr(w.VD),
		fmtPtr(w.S), fmtPtr(w.UT), w.Version)
}

func resolvedString(r ResolvedRecord) string {
	return wantRecord{Name: r.Name, Unit: r.Unit, Time: r.Time, V: r.Value, S: r.Sum, UT: r.UpdateTime,
		VS: r.StringValue, VD: r.DataValue, VB: r.BoolValue, Version: r.Version}.String()
}

func matchRecord(got ResolvedRecord, w wantRecord) bool {
	return got.Name == w.Name && got.Unit == w.Unit &&
		got.Time.Sub(w.Time).Abs() <= time.Microsecond &&
		floatsEqual(got.Value, w.V) && floatsEqual(got.Sum, w.S) && floatsEqual(got.UpdateTime, w.UT) &&
		ptrEqual(got.StringValue, w.VS) && ptrEqual(got.DataValue, w.VD) && ptrEqual(got.BoolValue, w.VB) &&
		got.Version == w.Version
}

// TestDecodeSenMLVectors runs all 45 cases of the shared vectors, each input
// decoded twice with the same (pooled) decoder state to catch leaked state.
func TestDecodeSenMLVectors(t *testing.T) {
	cases := loadSenMLVectors(t)
	if len(cases) != 45 {
		t.Fatalf("got %d cases, want 45", len(cases))
	}
	now := time.Date(2026, 11, 27, 10, 30, 0, 123456000, time.UTC)
	for _, c := range cases {
		t.Run(c.ID, func(t *testing.T) {
			for src, in := range c.inputs(t) {
				for pass := range 2 {
					got, err := Decode(in, now)
					if c.Expected == "reject" {
						if err == nil {
							t.Fatalf("%s pass %d: accepted, want rejection: %v", src, pass, got)
						}
						if !errors.Is(err, smartdeal.ErrMalformedPayload) && !errors.Is(err, smartdeal.ErrInvalidValue) && !errors.Is(err, smartdeal.ErrInvalidTime) {
							t.Errorf("%s: error %v wraps no payload sentinel", src, err)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s pass %d: %v", src, pass, err)
					}
					if len(got) != len(c.Resolved) {
						t.Fatalf("%s: %d records, want %d", src, len(got), len(c.Resolved))
					}
					for i, raw := range c.Resolved {
						w := parseWant(t, raw, now)
						if !matchRecord(got[i], w) {
							t.Errorf("%s pass %d record %d:\n got %s\nwant %s", src, pass, i, resolvedString(got[i]), w)
						}
					}
				}
			}
		})
	}
}

// TestDecodeSenMLVectorsReference checks that the reference decoder of the
// differential fuzz target passes the same vectors.
func TestDecodeSenMLVectorsReference(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	for _, c := range loadSenMLVectors(t) {
		for src, in := range c.inputs(t) {
			want, wantErr := Decode(in, now)
			got, err := refDecodeSenML(in, now)
			if (err != nil) != (wantErr != nil) {
				t.Errorf("%s %s: reference error %v, decoder error %v", c.ID, src, err, wantErr)
				continue
			}
			if d := diffResolved(got, want); d != "" {
				t.Errorf("%s %s: %s", c.ID, src, d)
			}
		}
	}
}

// diffResolved compares two decodes exactly; "" when equal.
func diffResolved(a, b []ResolvedRecord) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d records vs %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Unit != y.Unit || !x.Time.Equal(y.Time) || x.Version != y.Version ||
			!ptrEqualF(x.Value, y.Value) || !ptrEqualF(x.Sum, y.Sum) || !ptrEqualF(x.UpdateTime, y.UpdateTime) ||
			!ptrEqual(x.StringValue, y.StringValue) || !ptrEqual(x.DataValue, y.DataValue) || !ptrEqual(x.BoolValue, y.BoolValue) {
			return fmt.Sprintf("record %d:\n %s\n %s", i, resolvedString(x), resolvedString(y))
		}
	}
	return ""
}

// ptrEqualF compares floats bit for bit (so -0 and 0 differ).
func ptrEqualF(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Float64bits(*a) == math.Float64bits(*b)
}

// TestSenMLDecoderReuse runs every vector input, twice over, through ONE
// decoder, so that state left by one pack (base name, unit, version, arena,
// scratch) would show in the next; results must equal fresh decodes.
func TestSenMLDecoderReuse(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	var inputs [][]byte
	for _, c := range loadSenMLVectors(t) {
		for _, in := range c.inputs(t) {
			inputs = append(inputs, in)
		}
	}
	d := new(senmlDecoder)
	for pass := range 2 {
		for i, in := range inputs {
			fresh, freshErr := refDecodeSenML(in, now)
			err := d.decode(in, now)
			if (err == nil) != (freshErr == nil) {
				t.Fatalf("pass %d input %d: reused decoder error %v, fresh error %v", pass, i, err, freshErr)
			}
			if err != nil {
				continue
			}
			if diff := diffResolved(d.resolved(), fresh); diff != "" {
				t.Fatalf("pass %d input %d: reused decoder differs: %s", pass, i, diff)
			}
		}
	}
}
