package measure

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/influxdata/influxql"
)

// FuzzInfluxQLRange: whatever text reaches the statement builder (Range
// validates identifiers first; this skips that on purpose), the statement
// parses back as one SELECT of one aggregate whose tag comparisons hold
// exactly the given strings: no text can break out of its literal.
func FuzzInfluxQLRange(f *testing.F) {
	for _, s := range [][3]string{
		{"s1", "d1", "temperature"},
		{`s1' OR 1=1 --`, `d1"; DROP DATABASE x`, `q\' OR ''='`},
		{"a\nb", `\\'`, "é\x00"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	c, err := New(Config{URL: "http://127.0.0.1:1", Bucket: `db"x/rp'y`}, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, site, device, quantity string) {
		q := RangeQuery{SeriesKey: SeriesKey{Site: site, Device: device, Quantity: quantity}, Start: start, Stop: start.Add(time.Hour)}
		text, err := c.influxQLRange(&rangeGroup{start: q.Start, stop: q.Stop, agg: Max, every: time.Minute}, q.SeriesKey)
		if err != nil {
			// Refused text (NUL, control characters, invalid UTF-8) never
			// passes the identifier checks Range makes first either.
			if !errors.Is(err, ErrBadParam) || q.SeriesKey.Validate() == nil {
				t.Fatalf("%q refused with %v but passes validation", []string{site, device, quantity}, err)
			}
			return
		}
		stmt, err := influxql.ParseStatement(text)
		if err != nil {
			t.Fatalf("%q does not parse: %v", text, err)
		}
		sel, ok := stmt.(*influxql.SelectStatement)
		if !ok || len(sel.Fields) != 1 || len(sel.Sources) != 1 || len(sel.Dimensions) != 1 || sel.Target != nil {
			t.Fatalf("%q parsed as %T %v", text, stmt, stmt)
		}
		got := map[string]string{}
		influxql.WalkFunc(sel.Condition, func(n influxql.Node) {
			if b, ok := n.(*influxql.BinaryExpr); ok && b.Op == influxql.EQ {
				ref, ok1 := b.LHS.(*influxql.VarRef)
				lit, ok2 := b.RHS.(*influxql.StringLiteral)
				if ok1 && ok2 {
					got[ref.Val] = lit.Val
				}
			}
		})
		if got["site"] != site || got["device"] != device || got["quantity"] != quantity || len(got) != 3 {
			t.Fatalf("%q: tags %q, want %q %q %q", text, got, site, device, quantity)
		}
		m := sel.Sources[0].(*influxql.Measurement)
		if m.Database != `db"x` || m.RetentionPolicy != `rp'y` || m.Name != "telemetry" {
			t.Fatalf("%q: source %+v", text, m)
		}
	})
}
