// Package replay is a sensor that replays real recorded air-quality series:
// one station's pollutants in time order, optionally sped up. The recording
// embedded in the binary is the AtmoSud open data (ODbL) of 15 Oct 2019 for 12
// stations of the Alpes-Maritimes, one hourly value per pollutant.
package replay

import (
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cd06/smartdeal/devices"
)

//go:embed atmosud06_24h.csv
var atmosud24h string

// Options configure a replay sensor.
type Options struct {
	// File is (optional) a CSV with columns station, pollutant, value_ugm3 and
	// local_time (AtmoSud normalized layout). Empty means the embedded day.
	File string
	// Station is the station to replay, as written in the CSV. Required.
	Station string
	// Pollutants (optional) keeps only these pollutants (case-insensitive).
	Pollutants []string
	// Speedup is (optional) recorded seconds per real second. Defaults to 1.
	Speedup float64
	// Now is (optional) the clock. Defaults to time.Now.
	Now func() time.Time
}

// step is all the values recorded at one time.
type step struct {
	at     time.Time
	values []devices.Measurement
}

// Sensor replays a recorded series, looping at the end. It is safe for
// concurrent use.
type Sensor struct {
	steps   []step
	span    time.Duration // from the first step to one period after the last
	speedup float64
	now     func() time.Time
	start   time.Time
	mu      sync.Mutex
}

var _ devices.Sensor = (*Sensor)(nil)

// New loads the recording and starts the replay at its first step, now.
func New(o Options) (*Sensor, error) {
	var r io.Reader = strings.NewReader(atmosud24h)
	if o.File != "" {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		defer f.Close()
		r = f
	}
	steps, stations, err := load(r, o.Station, o.Pollutants)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", o.source(), err)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("replay %s: no values for station %q and pollutants %v (stations: %s): %w",
			o.source(), o.Station, o.Pollutants, strings.Join(stations, ", "), devices.ErrNotFound)
	}
	period := time.Hour
	for i := 1; i < len(steps); i++ {
		if d := steps[i].at.Sub(steps[i-1].at); d > 0 && (i == 1 || d < period) {
			period = d
		}
	}
	s := &Sensor{
		steps:   steps,
		span:    steps[len(steps)-1].at.Sub(steps[0].at) + period,
		speedup: o.Speedup,
		now:     o.Now,
	}
	if s.speedup == 0 {
		s.speedup = 1
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.start = s.now()
	return s, nil
}

func (o Options) source() string {
	if o.File == "" {
		return "atmosud06 15 Oct 2019"
	}
	return o.File
}

// load reads the CSV and returns the station's steps in time order, and the
// list of stations of the file (for error messages).
func load(r io.Reader, station string, pollutants []string) ([]step, []string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"station", "pollutant", "value_ugm3", "local_time"} {
		if _, ok := col[need]; !ok {
			return nil, nil, fmt.Errorf("missing column %q", need)
		}
	}
	byTime := map[time.Time]*step{}
	var stations []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		get := func(name string) string {
			if i := col[name]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		st := get("station")
		if !slices.Contains(stations, st) {
			stations = append(stations, st)
		}
		if !strings.EqualFold(st, station) {
			continue
		}
		pol := get("pollutant")
		if len(pollutants) > 0 && !slices.ContainsFunc(pollutants, func(p string) bool { return strings.EqualFold(p, pol) }) {
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05", get("local_time"))
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: local_time: %w", line, err)
		}
		st2 := byTime[at]
		if st2 == nil {
			st2 = &step{at: at}
			byTime[at] = st2
		}
		raw := get("value_ugm3")
		if raw == "" {
			continue // missing value: no data, not a reading
		}
		v, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, nil, fmt.Errorf("line %d: value_ugm3 %q is not a concentration", line, raw)
		}
		st2.values = append(st2.values, devices.Measurement{Quantity: Quantity(pol), Unit: Unit, Value: v})
	}
	steps := make([]step, 0, len(byTime))
	for _, s := range byTime {
		slices.SortFunc(s.values, func(a, b devices.Measurement) int { return strings.Compare(a.Quantity, b.Quantity) })
		steps = append(steps, *s)
	}
	slices.SortFunc(steps, func(a, b step) int { return a.at.Compare(b.at) })
	slices.Sort(stations)
	return steps, stations, nil
}

// Unit is the SenML unit of every replayed concentration.
const Unit = "ug/m3"

// Quantities returns every quantity the replay produces over its recording
// (a step may lack some), sorted; their unit is Unit.
func (s *Sensor) Quantities() []string {
	var q []string
	for _, st := range s.steps {
		for _, m := range st.values {
			if !slices.Contains(q, m.Quantity) {
				q = append(q, m.Quantity)
			}
		}
	}
	slices.Sort(q)
	return q
}

// Quantity maps an AtmoSud pollutant name to the platform's quantity:
// "PM2.5" → "pm2_5", "NO2" → "no2", "NOx" → "nox".
func Quantity(pollutant string) string {
	return strings.NewReplacer(".", "_", ",", "_", " ", "_").Replace(strings.ToLower(pollutant))
}

// Read returns the values of the recorded step that is current at the
// replay's position: (now − start) × speedup, looping over the recording.
// A step whose values are all missing returns devices.ErrNoData.
func (s *Sensor) Read(ctx context.Context) ([]devices.Measurement, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.steps[s.index(s.now())]
	if len(st.values) == 0 {
		return nil, fmt.Errorf("replay: nothing recorded at %s: %w", st.at.Format("2006-01-02T15:04"), devices.ErrNoData)
	}
	return slices.Clone(st.values), nil
}

// RecordedTime returns the recorded local time that the replay is at.
func (s *Sensor) RecordedTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.steps[s.index(s.now())].at
}

func (s *Sensor) index(now time.Time) int {
	elapsed := now.Sub(s.start)
	if elapsed < 0 {
		elapsed = 0
	}
	pos := time.Duration(math.Mod(float64(elapsed)*s.speedup, float64(s.span)))
	at := s.steps[0].at.Add(pos)
	// Last step at or before at.
	i, found := slices.BinarySearchFunc(s.steps, at, func(e step, t time.Time) int { return e.at.Compare(t) })
	if !found {
		i--
	}
	return max(i, 0)
}

// Close does nothing: the recording is in memory.
func (s *Sensor) Close() error { return nil }
