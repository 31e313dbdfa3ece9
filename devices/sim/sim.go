// Package sim is a simulated sensor: plausible values with a daily cycle,
// noise, a slow mean-reverting drift and occasional spikes, for profiles such
// as weather, air quality, river level and rain. It lets the whole platform
// run without hardware. With the same seed and clock it produces the same
// values, so tests can rely on it.
package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cd06/smartdeal/devices"
)

// Options configure a simulated sensor.
type Options struct {
	// Profile is one of Profiles(). Required.
	Profile string
	// Seed is (optional) the random seed; 0 derives one from Name.
	Seed uint64
	// Name is (optional) the device id, used to derive the seed when Seed is 0.
	Name string
	// Now is (optional) the clock. Defaults to time.Now.
	Now func() time.Time
}

// channel is one simulated quantity.
type channel struct {
	quantity, unit string
	base           float64 // mean value
	amplitude      float64 // half the daily swing; negative for a minimum at PeakHour
	peakHour       float64 // local hour of the daily maximum
	noise          float64 // standard deviation of the white noise
	driftSD        float64 // standard deviation of the drift per sqrt(hour)
	driftTau       float64 // hours for the drift to revert to the mean
	spikeProb      float64 // probability of a spike per read
	spike          float64 // spike size (added, times 1..3)
	min, max       float64
	step           float64 // rounding step (sensor resolution)

	drift float64
}

func profile(name string) ([]channel, error) {
	switch name {
	case ProfileWeather:
		return []channel{
			{quantity: "temperature", unit: "Cel", base: 16, amplitude: 6, peakHour: 15, noise: 0.05, driftSD: 0.6, driftTau: 24, spikeProb: 0.001, spike: 2, min: -25, max: 48, step: 0.01},
			{quantity: "relative_humidity", unit: "%RH", base: 65, amplitude: -15, peakHour: 15, noise: 0.3, driftSD: 2, driftTau: 12, spikeProb: 0.001, spike: 8, min: 3, max: 100, step: 0.1},
			{quantity: "pressure", unit: "Pa", base: 101325, amplitude: 60, peakHour: 10, noise: 2, driftSD: 80, driftTau: 48, min: 95000, max: 105000, step: 1},
		}, nil
	case ProfileAir:
		return []channel{
			{quantity: "pm2_5", unit: "ug/m3", base: 11, amplitude: 4, peakHour: 8, noise: 0.8, driftSD: 2, driftTau: 12, spikeProb: 0.01, spike: 15, min: 0, max: 500, step: 0.1},
			{quantity: "pm10", unit: "ug/m3", base: 19, amplitude: 6, peakHour: 8, noise: 1.2, driftSD: 3, driftTau: 12, spikeProb: 0.01, spike: 25, min: 0, max: 600, step: 0.1},
			{quantity: "no2", unit: "ug/m3", base: 24, amplitude: 12, peakHour: 8, noise: 1.5, driftSD: 3, driftTau: 8, spikeProb: 0.005, spike: 30, min: 0, max: 400, step: 0.1},
			{quantity: "o3", unit: "ug/m3", base: 62, amplitude: 25, peakHour: 15, noise: 2, driftSD: 5, driftTau: 24, spikeProb: 0.002, spike: 20, min: 0, max: 360, step: 0.1},
		}, nil
	case ProfileRiver:
		return []channel{
			{quantity: "water_level", unit: "m", base: 1.2, amplitude: 0.04, peakHour: 6, noise: 0.003, driftSD: 0.05, driftTau: 72, spikeProb: 0.002, spike: 0.4, min: 0.05, max: 6, step: 0.001},
			{quantity: "temperature", unit: "Cel", base: 13, amplitude: 1.5, peakHour: 17, noise: 0.02, driftSD: 0.2, driftTau: 48, min: 0, max: 30, step: 0.01},
		}, nil
	case ProfileRain:
		return []channel{{quantity: "rain", unit: "mm", min: 0, max: 100, step: 0.01}}, nil
	}
	return nil, fmt.Errorf("sim: unknown profile %q", name)
}

// Sensor is a simulated sensor. It is safe for concurrent use.
type Sensor struct {
	profile string
	now     func() time.Time

	mu       sync.Mutex
	rng      *rand.Rand
	channels []channel
	last     time.Time
	raining  bool
	rainRate float64 // mm/h while raining
}

var _ devices.Sensor = (*Sensor)(nil)

// New returns a simulated sensor.
func New(o Options) (*Sensor, error) {
	chans, err := profile(o.Profile)
	if err != nil {
		return nil, err
	}
	seed := o.Seed
	if seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(o.Profile + "/" + o.Name))
		seed = h.Sum64()
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Sensor{
		profile:  o.Profile,
		now:      now,
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		channels: chans,
	}, nil
}

// Quantities returns the quantities the sensor produces, in order.
func (s *Sensor) Quantities() []string {
	q := make([]string, len(s.channels))
	for i, c := range s.channels {
		q[i] = c.quantity
	}
	return q
}

// cet is the département's winter time; close enough for a daily cycle.
var cet = time.FixedZone("CET", 3600)

// Read returns one value per quantity of the profile.
func (s *Sensor) Read(ctx context.Context) ([]devices.Measurement, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now()
	dtHours := 0.0
	if !s.last.IsZero() && t.After(s.last) {
		dtHours = t.Sub(s.last).Hours()
	}
	s.last = t
	lt := t.In(cet)
	hour := float64(lt.Hour()) + float64(lt.Minute())/60 + float64(lt.Second())/3600

	out := make([]devices.Measurement, 0, len(s.channels))
	if s.profile == ProfileRain {
		out = append(out, devices.Measurement{Quantity: "rain", Unit: "mm", Value: s.rain(dtHours)})
		return out, nil
	}
	for i := range s.channels {
		c := &s.channels[i]
		// Ornstein-Uhlenbeck drift: reverts to 0 with time constant driftTau.
		if dtHours > 0 {
			a := math.Exp(-dtHours / c.driftTau)
			c.drift = c.drift*a + c.driftSD*math.Sqrt(c.driftTau/2*(1-a*a))*s.rng.NormFloat64()
		}
		v := c.base + c.amplitude*math.Cos(2*math.Pi*(hour-c.peakHour)/24) + c.drift + c.noise*s.rng.NormFloat64()
		if c.spikeProb > 0 && s.rng.Float64() < c.spikeProb {
			v += c.spike * (1 + 2*s.rng.Float64())
		}
		out = append(out, devices.Measurement{Quantity: c.quantity, Unit: c.unit, Value: round(clamp(v, c.min, c.max), c.step)})
	}
	return out, nil
}

// rain simulates showers: a two-state Markov chain (dry, raining) with a mean
// dry spell of 30 h and a mean shower of 2 h, at 0.5–8 mm/h.
func (s *Sensor) rain(dtHours float64) float64 {
	if dtHours <= 0 {
		return 0
	}
	if s.raining {
		if s.rng.Float64() < 1-math.Exp(-dtHours/2) {
			s.raining = false
		}
	} else if s.rng.Float64() < 1-math.Exp(-dtHours/30) {
		s.raining = true
		s.rainRate = 0.5 + 7.5*s.rng.Float64()*s.rng.Float64()
	}
	if !s.raining {
		return 0
	}
	mm := s.rainRate * dtHours * (0.5 + s.rng.Float64())
	return round(clamp(mm, 0, 100), 0.01)
}

// Close does nothing: a simulated sensor holds no resource.
func (s *Sensor) Close() error { return nil }

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func round(v, step float64) float64 {
	r := math.Round(v/step) * step
	// Remove binary noise such as 21.330000000000002.
	return math.Round(r*1e6) / 1e6
}
