package alerting

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

// memStore keeps the states in a map: the evaluation's own cost, without a
// database (the sqlstore benchmark adds SQLite's).
type memStore struct {
	Store // the methods the benchmark does not reach
	mu    sync.Mutex
	rules []*Rule
	st    map[Key]State
	ver   map[Key]int64
}

func (m *memStore) AlertRules(context.Context) ([]*Rule, error) { return m.rules, nil }

func (m *memStore) AlertState(_ context.Context, k Key) (State, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st[k], m.ver[k], nil
}

func (m *memStore) ApplyAlertState(_ context.Context, k Key, prev int64, st State, _ *Change) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ver[k] != prev {
		return 0, ErrConflict
	}
	m.st[k], m.ver[k] = st, prev+1
	return prev + 1, nil
}

// benchRules are 200 rules: 20 quantities × 10 rules (above, below, rate,
// no-data), half of them on one site, each with one or two levels.
func benchRules() []*Rule {
	var rules []*Rule
	for q := range 20 {
		for i := range 10 {
			r := &Rule{ID: fmt.Sprintf("r%d_%d", q, i), Name: "r", Enabled: true, Quantity: fmt.Sprintf("q%d", q), Hold: time.Minute,
				Levels: []Level{{Severity: Orange, Threshold: 100}, {Severity: Rouge, Threshold: 200}}}
			switch i % 4 {
			case 1:
				r.Kind, r.Levels = Below, []Level{{Severity: Jaune, Threshold: -100}}
			case 2:
				r.Kind, r.Window, r.Levels = Rate, 10*time.Minute, []Level{{Severity: Rouge, Threshold: 50}}
			case 3:
				r.Kind, r.Levels = NoData, []Level{{Severity: Jaune}}
			default:
				r.Kind = Above
			}
			if i%2 == 0 {
				r.Site = "s1"
			}
			if err := r.Validate(); err != nil {
				panic(err)
			}
			rules = append(rules, r)
		}
	}
	return rules
}

// BenchmarkHandleReadings is the evaluation's cost per reading with 200
// rules, no edge (values inside the thresholds): a reading of a quantity no
// rule watches, one watched by 10 rules (15 rule levels) with the state read
// from the store for each, and the same with the replica's state cache.
func BenchmarkHandleReadings(b *testing.B) {
	for _, c := range []struct {
		name     string
		quantity string
		cache    time.Duration
	}{{"unwatched", "temperature", 0}, {"10 rules, store", "q3", 0}, {"10 rules, cache", "q3", time.Minute}} {
		b.Run(c.name, func(b *testing.B) {
			st := &memStore{rules: benchRules(), st: map[Key]State{}, ver: map[Key]int64{}}
			svc, err := New(Config{StateCache: c.cache}, Deps{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			if err := svc.LoadRules(context.Background()); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			rs := []smartdeal.Reading{{Site: "s1", Device: "d1", Quantity: c.quantity, Unit: "x", Kind: smartdeal.KindNumber}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				rs[0].Time, rs[0].Number = t0.Add(time.Duration(i)*time.Second), float64(i%7)
				if err := svc.HandleReadings(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStep is the core's cost for one sample of one rule level.
func BenchmarkStep(b *testing.B) {
	for _, r := range []*Rule{
		{Name: "above", Kind: Above, Quantity: "q", Hold: time.Minute, Levels: []Level{{Severity: Orange, Threshold: 100}}},
		{Name: "rate", Kind: Rate, Quantity: "q", Window: 10 * time.Minute, Levels: []Level{{Severity: Orange, Threshold: 50}}},
	} {
		if err := r.Validate(); err != nil {
			b.Fatal(err)
		}
		b.Run(r.Name, func(b *testing.B) {
			var st State
			t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			b.ReportAllocs()
			for i := range b.N {
				st, _ = Step(r, 0, st, Sample{Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i % 7)})
			}
		})
	}
}
