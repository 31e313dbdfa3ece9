package dronesim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3"

	bridge "github.com/cd06/smartdeal/firmware-bridge"
)

// DefaultFleetEndpoint is where a Fleet flies by default: a bridge listening
// on the standard MAVLink port of this machine.
const DefaultFleetEndpoint = "udp-client:127.0.0.1:14550"

// DefaultSpread is the distance between the survey areas of a fleet's
// vehicles, in metres north.
const DefaultSpread = 500.0

// Fleet flies several simulated vehicles to one MAVLink endpoint, in-process:
// what cmd/dronesim does, for the all-in-one demo and tests.
//
//	f := dronesim.Fleet{N: 3, Endpoint: "udp-client:127.0.0.1:14550", TimeScale: 5,
//		Vehicle: dronesim.Config{Repeat: 30 * time.Second}}
//	err := f.Run(ctx) // until ctx ends
//
// Vehicle i (0…N-1) has system id FirstID+i, and its home and survey polygon
// are those of the template shifted i×Spread metres north, so the drones stay
// apart on a map.
type Fleet struct {
	// (optional) number of vehicles; defaults to 1.
	N int
	// (optional) system id of the first vehicle; defaults to 1. The ids must
	// stay within 1…254.
	FirstID int
	// (optional) endpoint, as the bridge's mavlink.endpoints ("udp-client:host:port",
	// "tcp-client:host:port", "serial:<dev>:<baud>"…); defaults to
	// DefaultFleetEndpoint. EndpointConf, when set, is used instead.
	Endpoint     string
	EndpointConf gomavlib.EndpointConf
	// (optional) template of every vehicle's configuration; SystemID is
	// ignored, Home and Polygon (default DefaultHome, DefaultPolygon) are
	// shifted per vehicle, a non-zero Seed is added the vehicle's index. Set
	// Repeat for drones that fly again after landing (a demo that never ends).
	Vehicle Config
	// (optional) distance between the vehicles' areas in metres north;
	// defaults to DefaultSpread.
	Spread float64
	// (optional) simulated seconds per real second; defaults to 1.
	TimeScale float64
	// (optional) logs each vehicle's start; nil logs nothing.
	Log *slog.Logger
}

// Configs returns the configuration of each vehicle, checked.
func (f Fleet) Configs() ([]Config, error) {
	n, first := f.N, f.FirstID
	if n == 0 {
		n = 1
	}
	if first == 0 {
		first = 1
	}
	if n < 1 || first < 1 || first+n-1 > 254 {
		return nil, fmt.Errorf("dronesim: fleet of %d from system id %d: system ids must stay within 1…254", n, first)
	}
	spread := f.Spread
	if spread == 0 {
		spread = DefaultSpread
	}
	home, poly := f.Vehicle.Home, f.Vehicle.Polygon
	if home == (Point{}) {
		home = DefaultHome
	}
	if len(poly) == 0 {
		poly = DefaultPolygon
	}
	cfgs := make([]Config, n)
	for i := range cfgs {
		c := f.Vehicle
		c.SystemID = uint8(first + i)
		if c.Seed != 0 {
			c.Seed += uint64(i)
		}
		shift := spread / 111_320 * float64(i) // degrees of latitude
		c.Home = Point{Lat: home.Lat + shift, Lon: home.Lon}
		c.Polygon = make([]Point, len(poly))
		for j, p := range poly {
			c.Polygon[j] = Point{Lat: p.Lat + shift, Lon: p.Lon}
		}
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("vehicle %d: %w", c.SystemID, err)
		}
		cfgs[i] = c
	}
	return cfgs, nil
}

func (f Fleet) endpoint() (gomavlib.EndpointConf, string, error) {
	if f.EndpointConf != nil {
		return f.EndpointConf, fmt.Sprintf("%T", f.EndpointConf), nil
	}
	s := f.Endpoint
	if s == "" {
		s = DefaultFleetEndpoint
	}
	ep, err := bridge.ParseEndpoint(s)
	if err != nil {
		return nil, "", fmt.Errorf("endpoint: %w", err)
	}
	return ep.Conf(), ep.String(), nil
}

// Run flies every vehicle until ctx ends and returns nil then, after all of
// them have stopped. If one vehicle fails (its endpoint cannot be opened),
// the others are stopped and its error is returned.
func (f Fleet) Run(ctx context.Context) error {
	cfgs, err := f.Configs()
	if err != nil {
		return err
	}
	conf, name, err := f.endpoint()
	if err != nil {
		return err
	}
	log := f.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(cfgs))
	now := time.Now()
	for _, c := range cfgs {
		sim, err := NewSim(c, now)
		if err != nil {
			cancel()
			wg.Wait()
			return fmt.Errorf("vehicle %d: %w", c.SystemID, err)
		}
		v := &Vehicle{Sim: sim, Endpoint: conf, TimeScale: f.TimeScale}
		wg.Go(func() {
			if err := v.Run(ctx); err != nil {
				errs <- err
				cancel()
			}
		})
		log.Info("vehicle flying", "system_id", c.SystemID, "endpoint", name)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// WriteTlog flies each vehicle in turn, without network, from start for d
// of simulated time (0: until it has landed once) and writes every message
// to w as a .tlog (see the function WriteTlog). It returns the number of
// entries written.
func (f Fleet) WriteTlog(w io.Writer, start time.Time, d time.Duration) (int, error) {
	cfgs, err := f.Configs()
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range cfgs {
		sim, err := NewSim(c, start)
		if err != nil {
			return total, fmt.Errorf("vehicle %d: %w", c.SystemID, err)
		}
		entries, err := WriteTlog(w, sim, d)
		total += len(entries)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
