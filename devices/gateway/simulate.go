package gateway

import (
	"fmt"
	"time"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/drivers"
	"github.com/cd06/smartdeal/devices/sim"
)

// SimulatedConfig returns the configuration of a gateway with simulated
// sensors, for the all-in-one and demos: one sensor per simulation profile
// (weather, air, river, rain), repeated until n sensors, named <profile>-<i>,
// read every interval. Adjust the result (e.g. Forward, HTTP) before New.
//
//	cfg := gateway.SimulatedConfig("nice-port", "tcp://127.0.0.1:1883", dir, 4, 10*time.Second)
//	g, err := gateway.New(cfg, log)
//	go g.Run(ctx)
func SimulatedConfig(site, brokerURL, spoolDir string, n int, interval time.Duration) Config {
	profiles := sim.Profiles()
	c := Config{
		Site:    site,
		Broker:  Broker{URL: brokerURL},
		Spool:   Spool{Dir: spoolDir},
		Sensors: make([]drivers.SensorConfig, 0, n),
	}
	for i := range n {
		p := profiles[i%len(profiles)]
		c.Sensors = append(c.Sensors, drivers.SensorConfig{
			Driver:   "sim",
			Device:   fmt.Sprintf("%s-%d", p, i/len(profiles)+1),
			Interval: devices.Duration(interval),
			Options:  &sim.Config{Profile: p},
		})
	}
	return c
}
