package replay

import (
	"context"
	"log/slog"

	"github.com/cd06/smartdeal/devices"
)

// Config is a replay's part of a sensor's configuration (driver replay): the
// YAML keys beside driver, device, interval and tags.
//
//	driver: replay
//	device: nice-arson
//	station: NICE ARSON
//	pollutants: [PM10, PM2.5]
//	speedup: 3600
type Config struct {
	// File is (optional) a CSV in the AtmoSud normalized layout
	// (station,pollutant,value_ugm3,local_time columns); empty means the
	// embedded 15 Oct 2019 day of 12 Alpes-Maritimes stations.
	File string `yaml:"file,omitempty" json:"file,omitempty"`
	// Station is the station name as in the CSV (e.g. NICE ARSON). Required.
	Station string `yaml:"station,omitempty" json:"station,omitempty"`
	// Pollutants (optional) keeps only these (NO2, NOx, O3, PM10, PM2.5).
	Pollutants []string `yaml:"pollutants,omitempty" json:"pollutants,omitempty"`
	// Speedup (optional, default 1) is how many recorded seconds pass per
	// real second (3600: one recorded hour per second).
	Speedup float64 `yaml:"speedup,omitempty" json:"speedup,omitempty"`
}

// Validate checks the configuration; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if c.Station == "" {
		return devices.FieldErrorf("station", "required: the station name as in the CSV (e.g. NICE ARSON)")
	}
	for _, p := range c.Pollutants {
		if p == "" {
			return devices.FieldErrorf("pollutants", "empty pollutant name")
		}
	}
	if c.Speedup < 0 || !devices.Finite(c.Speedup) || c.Speedup > 1e7 {
		return devices.FieldErrorf("speedup", "%g: want a positive factor (1 = real time, 3600 = an hour per second)", c.Speedup)
	}
	return nil
}

// Open reads the recording.
func (c *Config) Open(_ context.Context, _ string, _ *slog.Logger) (devices.Sensor, error) {
	return New(Options{File: c.File, Station: c.Station, Pollutants: c.Pollutants, Speedup: c.Speedup})
}
