package alerting

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ptr(v float64) *float64 { return &v }

// run steps the samples (minute offset, value) through level 0 and writes
// each decision: F (fire), C (clear), L (late), . (nothing).
func run(t *testing.T, r *Rule, samples [][2]float64) (string, State) {
	t.Helper()
	if err := r.Validate(); err != nil {
		t.Fatalf("rule: %v", err)
	}
	var st State
	var b strings.Builder
	for _, s := range samples {
		var ev Event
		st, ev = Step(r, 0, st, Sample{Time: t0.Add(time.Duration(s[0] * float64(time.Minute))), Value: s[1]})
		b.WriteString([]string{".", "F", "C", "L"}[ev.Type])
		if ev.Type == Fire && ev.From.After(ev.To) {
			t.Errorf("fire from %s after to %s", ev.From, ev.To)
		}
	}
	return b.String(), st
}

func TestStep(t *testing.T) {
	river := func(hold time.Duration, clear *float64) *Rule {
		return &Rule{Name: "Roya", Kind: Above, Quantity: "water_level", Hold: hold,
			Levels: []Level{{Severity: Orange, Threshold: 2.5, Clear: clear}}}
	}
	for _, c := range []struct {
		name    string
		rule    *Rule
		samples [][2]float64
		want    string
	}{
		{"above held: fires once, clears, fires again", river(10*time.Minute, nil),
			[][2]float64{{0, 2.0}, {1, 2.6}, {5, 2.7}, {11, 2.8}, {12, 3.0}, {13, 2.4}, {14, 2.6}, {24, 2.6}, {25, 2.0}},
			"...F.C.FC"},
		{"a dip before the hold restarts the run", river(10*time.Minute, nil),
			[][2]float64{{0, 2.6}, {5, 2.4}, {9, 2.6}, {12, 2.6}, {19, 2.6}},
			"....F"},
		{"hold 0 fires on the first reading", river(0, nil),
			[][2]float64{{0, 2.5}, {1, 2.6}, {2, 2.49}},
			"F.C"},
		{"hysteresis: between clear and threshold the alert stays", river(0, ptr(2.3)),
			[][2]float64{{0, 2.6}, {1, 2.4}, {2, 2.35}, {3, 2.3}, {4, 2.29}, {5, 2.4}, {6, 2.5}},
			"F...C.F"},
		{"hysteresis: a pending run ends between the two", river(5*time.Minute, ptr(2.3)),
			[][2]float64{{0, 2.6}, {2, 2.4}, {6, 2.6}, {12, 2.6}},
			"...F"},
		{"below", &Rule{Name: "étiage", Kind: Below, Quantity: "water_level", Levels: []Level{{Severity: Jaune, Threshold: 0.5, Clear: ptr(0.7)}}},
			[][2]float64{{0, 0.8}, {1, 0.5}, {2, 0.6}, {3, 0.71}},
			".F.C"},
		{"rate: a river rising 20 cm in 15 minutes", &Rule{Name: "crue", Kind: Rate, Quantity: "water_level", Window: 15 * time.Minute,
			Levels: []Level{{Severity: Rouge, Threshold: 0.2, Clear: ptr(0.1)}}},
			// 1.0 → 1.25 within 15 min fires; the window slides, the rise shrinks, it clears.
			[][2]float64{{0, 1.0}, {5, 1.1}, {10, 1.25}, {15, 1.3}, {20, 1.32}, {30, 1.33}, {40, 1.34}},
			"..F..C."},
		{"rate: a fall", &Rule{Name: "vidange", Kind: Rate, Quantity: "water_level", Window: 10 * time.Minute,
			Levels: []Level{{Severity: Jaune, Threshold: -0.5}}},
			[][2]float64{{0, 2.0}, {5, 1.4}, {20, 1.4}},
			".FC"},
		{"no data: silence samples, then a reading", &Rule{Name: "muet", Kind: NoData, Quantity: "pm10", Hold: 30 * time.Minute, Levels: []Level{{Severity: Jaune}}},
			// sweeps: 600 s and 1200 s of silence, then 1800 s fires; a reading (0) clears.
			[][2]float64{{10, 600}, {20, 1200}, {30, 1800}, {40, 2400}, {41, 0}, {50, 540}},
			"..F.C."},
		{"offline held 5 minutes", &Rule{Name: "hors ligne", Kind: Offline, Hold: 5 * time.Minute, Levels: []Level{{Severity: Orange}}},
			[][2]float64{{0, 1}, {3, 0}, {4, 1}, {8, 1}, {9, 1}, {10, 0}},
			"....FC"},
		{"ATMO at or above dégradé, cleared below moyen", &Rule{Name: "air", Kind: Atmo, Levels: []Level{{Severity: Orange, Threshold: 3, Clear: ptr(2)}}},
			[][2]float64{{0, 2}, {60, 3}, {120, 4}, {180, 2}, {240, 1}, {300, 3}},
			".F..CF"},
		{"late readings: out of order ones change nothing", river(0, nil),
			[][2]float64{{10, 2.0}, {5, 3.0}, {11, 2.6}, {9, 1.0}, {12, 2.0}},
			".LFLC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := run(t, c.rule, c.samples)
			if got != c.want {
				t.Errorf("decisions %s, want %s", got, c.want)
			}
		})
	}
}

func TestStepFireReferencesReadings(t *testing.T) {
	r := &Rule{Name: "Roya", Kind: Above, Quantity: "water_level", Hold: 10 * time.Minute, Levels: []Level{{Severity: Rouge, Threshold: 3.2}}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	var st State
	var ev Event
	for i, v := range []float64{3.3, 3.6, 3.4} {
		st, ev = Step(r, 0, st, Sample{Time: t0.Add(time.Duration(i) * 5 * time.Minute), Value: v})
	}
	if ev.Type != Fire || !ev.From.Equal(t0) || !ev.To.Equal(t0.Add(10*time.Minute)) || ev.First != 3.3 || ev.Peak != 3.6 || ev.Value != 3.4 {
		t.Errorf("fire %+v", ev)
	}
	if st.Phase != Firing {
		t.Errorf("phase %s", st.Phase)
	}
}

func TestRateWindowBounded(t *testing.T) {
	r := &Rule{Name: "r", Kind: Rate, Quantity: "q", Window: time.Hour, Levels: []Level{{Severity: Jaune, Threshold: 100}}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	var st State
	for i := 0; i < 3*3600; i++ {
		st, _ = Step(r, 0, st, Sample{Time: t0.Add(time.Duration(i) * time.Second), Value: 1})
	}
	if len(st.Window) < WindowBuckets || len(st.Window) > WindowBuckets+1 {
		t.Errorf("window of %d samples", len(st.Window))
	}
}

func TestRuleValidate(t *testing.T) {
	for i, r := range []Rule{
		{Name: "", Kind: Above, Quantity: "q", Levels: []Level{{Severity: Jaune, Threshold: 1}}},
		{Name: "x", Kind: "sideways", Quantity: "q", Levels: []Level{{Severity: Jaune}}},
		{Name: "x", Kind: Above, Quantity: "Q!", Levels: []Level{{Severity: Jaune}}},
		{Name: "x", Kind: Above, Quantity: "q"},
		{Name: "x", Kind: Above, Quantity: "q", Levels: []Level{{Severity: "violet"}}},
		{Name: "x", Kind: Above, Quantity: "q", Levels: []Level{{Severity: Jaune}, {Severity: Jaune}}},
		{Name: "x", Kind: Above, Quantity: "q", Levels: []Level{{Severity: Jaune, Threshold: 1, Clear: ptr(2)}}},
		{Name: "x", Kind: Below, Quantity: "q", Levels: []Level{{Severity: Jaune, Threshold: 1, Clear: ptr(0)}}},
		{Name: "x", Kind: Rate, Quantity: "q", Levels: []Level{{Severity: Jaune, Threshold: 1}}},
		{Name: "x", Kind: Rate, Quantity: "q", Window: time.Minute, Levels: []Level{{Severity: Jaune, Threshold: 0}}},
		{Name: "x", Kind: NoData, Quantity: "q", Levels: []Level{{Severity: Jaune}}},
		{Name: "x", Kind: Atmo, Levels: []Level{{Severity: Jaune, Threshold: 7}}},
		{Name: "x", Kind: Atmo, Levels: []Level{{Severity: Jaune, Threshold: 2.5}}},
		{Name: "x", Kind: Above, Quantity: "q", Site: "Nice Port", Levels: []Level{{Severity: Jaune}}},
		{Name: "x", Kind: Above, Quantity: "q", Hold: -time.Second, Levels: []Level{{Severity: Jaune}}},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if err := r.Validate(); err == nil {
				t.Errorf("accepted %+v", r)
			}
		})
	}
	ok := Rule{Name: " Roya ", Kind: Above, Site: "breil-sur-roya", Quantity: "water_level", Hold: time.Minute,
		Levels: []Level{{Severity: Orange, Threshold: 2.5}, {Severity: Rouge, Threshold: 3.2, Clear: ptr(3)}}}
	if err := ok.Validate(); err != nil || ok.Name != "Roya" {
		t.Errorf("refused: %v", err)
	}
	if !ok.Matches("breil-sur-roya", "any", "water_level") || ok.Matches("nice-port", "any", "water_level") || ok.Matches("breil-sur-roya", "d", "pm10") {
		t.Error("Matches")
	}
}

func TestMailText(t *testing.T) {
	end := t0.Add(20 * time.Minute)
	a := &Alert{ID: "a1", RuleName: "Crue de la Roya", Kind: Above, Severity: Orange, Status: Active, Threshold: 2.5, Value: 2.75,
		From: t0, FiredAt: t0.Add(10 * time.Minute), Recorded: t0.Add(10 * time.Minute)}
	a.Series.Site, a.Series.Device, a.Series.Quantity, a.Series.Unit = "breil-sur-roya", "river-1", "water_level", "m"
	link := func(id string) string { return "https://smartdeal.example/alertes/" + id }
	m := MailText("rm@x", []*Alert{a}, link, t0)
	for _, want := range []string{"Vigilance orange (en cours)", "2,75 m, au-dessus du seuil de 2,5 m", "2 mars 2026 à 11 h 10",
		"https://smartdeal.example/alertes/a1", "du 2 mars 2026 à 11 h 00 au 2 mars 2026 à 11 h 10"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("mail lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Subject != "Alerte vigilance orange — Crue de la Roya (breil-sur-roya)" {
		t.Errorf("subject %q", m.Subject)
	}
	// A storm: one mail, every alert, the worst level in the subject; a
	// past alert says so.
	b := *a
	b.ID, b.Severity, b.Past, b.Status, b.ConditionEnd = "a2", Rouge, true, Cleared, &end
	m = MailText("rm@x", []*Alert{a, &b}, link, t0)
	for _, want := range []string{"a déclenché 2 alertes", "alertes/a1", "alertes/a2", "appartient au passé", "Fin de la condition le 2 mars 2026 à 11 h 20"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("storm mail lacks %q:\n%s", want, m.Text)
		}
	}
	if m.Subject != "2 alertes, jusqu'à vigilance rouge — Crue de la Roya" {
		t.Errorf("storm subject %q", m.Subject)
	}
	if s := MailText("rm@x", []*Alert{&b}, link, t0).Subject; !strings.HasPrefix(s, "Alerte passée (vigilance rouge)") {
		t.Errorf("past subject %q", s)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"event":"fired"}`)
	sig := Sign("k", body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 || !VerifySignature("k", body, sig) {
		t.Errorf("signature %q", sig)
	}
	if VerifySignature("other", body, sig) || VerifySignature("k", []byte(`{"event":"cleared"}`), sig) || VerifySignature("k", body, "") {
		t.Error("a wrong key, body or header verified")
	}
}
