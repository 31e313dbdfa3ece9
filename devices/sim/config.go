package sim

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/cd06/smartdeal/devices"
)

// Simulation profiles (Config.Profile, Options.Profile).
const (
	ProfileWeather = "weather" // temperature, relative_humidity, pressure
	ProfileAir     = "air"     // pm2_5, pm10, no2, o3
	ProfileRiver   = "river"   // water_level, temperature (water)
	ProfileRain    = "rain"    // rain (mm per read)
)

// Profiles lists the simulation profiles.
func Profiles() []string { return []string{ProfileWeather, ProfileAir, ProfileRiver, ProfileRain} }

// Config is a simulated sensor's part of a sensor's configuration (driver
// sim): the YAML keys beside driver, device, interval and tags.
//
//	driver: sim
//	device: air-1
//	profile: air
type Config struct {
	// Profile is one of Profiles(). Required.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// Seed is (optional) the random seed; 0 derives one from the device id,
	// so each simulated device differs but is reproducible.
	Seed uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`
}

// Validate checks the profile; the error is a *devices.FieldError.
func (c *Config) Validate() error {
	if c.Profile == "" {
		return devices.FieldErrorf("profile", "required, one of %s", strings.Join(Profiles(), ", "))
	}
	if !slices.Contains(Profiles(), c.Profile) {
		return devices.FieldErrorf("profile", "unknown profile %q, want one of %s", c.Profile, strings.Join(Profiles(), ", "))
	}
	return nil
}

// Open starts the simulation of device.
func (c *Config) Open(_ context.Context, device string, _ *slog.Logger) (devices.Sensor, error) {
	return New(Options{Profile: c.Profile, Seed: c.Seed, Name: device})
}
