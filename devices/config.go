package devices

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cd06/smartdeal"
)

// Driver names accepted in SensorConfig.Driver.
const (
	DriverBME280  = "bme280"
	DriverBMP280  = "bmp280"
	DriverDS18B20 = "ds18b20"
	DriverADS1x15 = "ads1x15"
	DriverPulse   = "pulse"
	DriverPMS5003 = "pms5003"
	DriverSDS011  = "sds011"
	DriverSim     = "sim"
	DriverReplay  = "replay"
)

// DriverNames lists every driver a SensorConfig may name, in a stable order.
func DriverNames() []string {
	return []string{DriverBME280, DriverBMP280, DriverDS18B20, DriverADS1x15, DriverPulse,
		DriverPMS5003, DriverSDS011, DriverSim, DriverReplay}
}

// Pulse counter modes (SensorConfig.PulseMode).
const (
	// PulseCount reports pulses since the previous read × per_pulse (rain gauge: mm per tip).
	PulseCount = "count"
	// PulseRate reports pulses per second since the previous read × per_pulse
	// (anemometer: m/s per Hz).
	PulseRate = "rate"
)

// Simulation profiles (SensorConfig.Profile).
const (
	ProfileWeather = "weather" // temperature, relative_humidity, pressure
	ProfileAir     = "air"     // pm2_5, pm10, no2, o3
	ProfileRiver   = "river"   // water_level, temperature (water)
	ProfileRain    = "rain"    // rain (mm per read)
)

// Profiles lists the simulation profiles.
func Profiles() []string { return []string{ProfileWeather, ProfileAir, ProfileRiver, ProfileRain} }

// ADS1x15 chips (SensorConfig.Chip).
const (
	ChipADS1115 = "ads1115"
	ChipADS1015 = "ads1015"
)

// Limits on a sensor's read interval.
const (
	// DefaultInterval is the read interval when none is configured.
	DefaultInterval = 10 * time.Second
	// MinInterval is the shortest read interval accepted (10 Hz).
	MinInterval = 100 * time.Millisecond
	// MaxInterval is the longest read interval accepted.
	MaxInterval = 24 * time.Hour
)

// SensorConfig describes one sensor of a gateway, as written in the gateway's
// YAML file under `sensors:`. Which fields matter depends on Driver; Validate
// rejects a field set for a driver that does not use it only when that would
// hide a mistake (a bus on a simulated sensor is ignored, a missing quantity is
// not).
//
// Example:
//
//	driver: ads1x15
//	device: river-level-1
//	bus: "1"          # I2C bus name; empty = first bus
//	address: 0x48
//	channel: 0
//	quantity: water_level
//	unit: m
//	scale: 1.25       # value = volts*scale + offset
//	offset: -0.10
//	interval: 30s
type SensorConfig struct {
	// Driver is one of DriverNames(). Required.
	Driver string `yaml:"driver" json:"driver"`
	// Device is the device id the readings are published under
	// (smartdeal.ValidID). Required.
	Device string `yaml:"device" json:"device"`
	// Bus is (optional) the I2C bus name ("1", "/dev/i2c-1"); for ds18b20 the
	// 1-Wire bus name, or "sysfs" or a w1 sysfs directory to read through the
	// kernel's w1_therm; or the serial port ("/dev/ttyAMA0", "/dev/ttyUSB0").
	// Empty means the first I2C / 1-Wire bus (ds18b20 falls back to
	// /sys/bus/w1/devices); a serial port is required for pms5003 and sds011.
	Bus string `yaml:"bus,omitempty" json:"bus,omitempty"`
	// Address is (optional) the I2C address. Defaults to 0x76 for bme280/bmp280
	// (0x77 is the other choice) and 0x48 for ads1x15 (0x48–0x4B).
	Address uint16 `yaml:"address,omitempty" json:"address,omitempty"`
	// ROM is (optional) the 1-Wire ROM address of a ds18b20, as in
	// /sys/bus/w1/devices ("28-0000056d8a2f") or 16 hex digits. Empty means
	// the only DS18B20 found on the bus.
	ROM string `yaml:"rom,omitempty" json:"rom,omitempty"`
	// Pin is the GPIO pin of a pulse counter ("GPIO17", "17"). Required for pulse.
	Pin string `yaml:"pin,omitempty" json:"pin,omitempty"`
	// Interval is (optional) the read interval, MinInterval..MaxInterval.
	// Defaults to DefaultInterval.
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Tags are (optional) extra labels of the sensor (e.g. location: "pont-du-var").
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`

	// Quantity and Unit name what an ads1x15 or pulse sensor measures
	// (water_level m, soil_moisture %, rain mm, wind_speed m/s). Required for
	// those drivers; ignored by the others, which know their quantities.
	Quantity string `yaml:"quantity,omitempty" json:"quantity,omitempty"`
	Unit     string `yaml:"unit,omitempty" json:"unit,omitempty"`

	// ads1x15: Chip is (optional) ads1115 (default) or ads1015; Channel is the
	// single-ended input 0–3; FullScale is (optional) the input range in volts
	// (0.256, 0.512, 1.024, 2.048, 4.096 or 6.144; default 4.096). The reading is
	// volts*Scale + Offset; Scale must not be 0.
	Chip      string  `yaml:"chip,omitempty" json:"chip,omitempty"`
	Channel   int     `yaml:"channel,omitempty" json:"channel,omitempty"`
	FullScale float64 `yaml:"full_scale,omitempty" json:"full_scale,omitempty"`
	Scale     float64 `yaml:"scale,omitempty" json:"scale,omitempty"`
	Offset    float64 `yaml:"offset,omitempty" json:"offset,omitempty"`

	// pulse: PerPulse is the factor per pulse (count mode: mm per tip) or per
	// Hz (rate mode: m/s per Hz); must be > 0. PulseMode is (optional) count
	// (default) or rate. Debounce is (optional) the dead time after an edge
	// (default 0: every edge counts; reed switches want ~10ms).
	PerPulse  float64  `yaml:"per_pulse,omitempty" json:"per_pulse,omitempty"`
	PulseMode string   `yaml:"pulse_mode,omitempty" json:"pulse_mode,omitempty"`
	Debounce  Duration `yaml:"debounce,omitempty" json:"debounce,omitempty"`

	// pms5003 / sds011: Baud is (optional) the serial speed; both sensors use
	// 9600 (the default).
	Baud int `yaml:"baud,omitempty" json:"baud,omitempty"`

	// sim: Profile is one of Profiles(). Seed is (optional) the random seed;
	// 0 derives one from the device id, so each simulated device differs but
	// is reproducible.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	Seed    uint64 `yaml:"seed,omitempty" json:"seed,omitempty"`

	// replay: File is (optional) a CSV in the AtmoSud normalized layout
	// (station,pollutant,value_ugm3,local_time columns); empty means the
	// embedded 15 Oct 2019 day of 12 Alpes-Maritimes stations. Station is
	// required; Pollutants (optional) keeps only these (NO2, NOx, O3, PM10,
	// PM2.5); Speedup (optional, default 1) is how many recorded seconds pass
	// per real second (3600: one recorded hour per second).
	File       string   `yaml:"file,omitempty" json:"file,omitempty"`
	Station    string   `yaml:"station,omitempty" json:"station,omitempty"`
	Pollutants []string `yaml:"pollutants,omitempty" json:"pollutants,omitempty"`
	Speedup    float64  `yaml:"speedup,omitempty" json:"speedup,omitempty"`
}

// FieldError is a configuration error about one field, named by its YAML key.
// The gateway prefixes the path of the sensor ("sensors[2].") with
// fmt.Errorf("sensors[%d].%w", i, err).
type FieldError struct {
	Field  string // YAML key, e.g. "address"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// ErrConfig is wrapped by every FieldError, so callers can test errors.Is(err, ErrConfig).
var ErrConfig = errors.New("invalid sensor configuration")

// Is makes errors.Is(fieldErr, ErrConfig) true.
func (e *FieldError) Is(target error) bool { return target == ErrConfig }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ReadInterval returns the configured interval, or DefaultInterval.
func (c SensorConfig) ReadInterval() time.Duration {
	if c.Interval == 0 {
		return DefaultInterval
	}
	return time.Duration(c.Interval)
}

// I2CAddress returns the configured I2C address or the driver's default.
func (c SensorConfig) I2CAddress() uint16 {
	if c.Address != 0 {
		return c.Address
	}
	switch c.Driver {
	case DriverBME280, DriverBMP280:
		return 0x76
	case DriverADS1x15:
		return 0x48
	}
	return 0
}

// Validate checks the configuration. The first problem found is returned as a
// *FieldError naming the YAML key.
func (c SensorConfig) Validate() error {
	if c.Driver == "" {
		return fieldErr("driver", "required, one of %s", strings.Join(DriverNames(), ", "))
	}
	if !slices.Contains(DriverNames(), c.Driver) {
		return fieldErr("driver", "unknown driver %q, want one of %s", c.Driver, strings.Join(DriverNames(), ", "))
	}
	if c.Device == "" {
		return fieldErr("device", "required: the device id readings are published under")
	}
	if !smartdeal.ValidID(c.Device) {
		return fieldErr("device", "%q is not a valid id: want [a-z0-9][a-z0-9_-]{0,62}", c.Device)
	}
	if c.Interval != 0 {
		d := time.Duration(c.Interval)
		if d < MinInterval || d > MaxInterval {
			return fieldErr("interval", "%s out of range, want %s to %s", d, MinInterval, MaxInterval)
		}
	}
	for k, v := range c.Tags {
		if !smartdeal.ValidQuantity(k) {
			return fieldErr("tags", "key %q: want [a-z][a-z0-9_]{0,62}", k)
		}
		if len(v) > 256 {
			return fieldErr("tags."+k, "value longer than 256 bytes")
		}
	}
	switch c.Driver {
	case DriverBME280, DriverBMP280:
		if a := c.I2CAddress(); a != 0x76 && a != 0x77 {
			return fieldErr("address", "%#x: want 0x76 or 0x77", a)
		}
	case DriverDS18B20:
		if c.ROM != "" {
			if _, err := ParseROM(c.ROM); err != nil {
				return fieldErr("rom", "%v", err)
			}
		}
	case DriverADS1x15:
		if a := c.I2CAddress(); a < 0x48 || a > 0x4B {
			return fieldErr("address", "%#x: want 0x48 to 0x4b", a)
		}
		if c.Chip != "" && c.Chip != ChipADS1115 && c.Chip != ChipADS1015 {
			return fieldErr("chip", "%q: want ads1115 or ads1015", c.Chip)
		}
		if c.Channel < 0 || c.Channel > 3 {
			return fieldErr("channel", "%d: want 0 to 3 (single-ended input)", c.Channel)
		}
		if c.FullScale != 0 && !slices.Contains(fullScales, c.FullScale) {
			return fieldErr("full_scale", "%g V: want one of 0.256, 0.512, 1.024, 2.048, 4.096, 6.144", c.FullScale)
		}
		if c.Scale == 0 || !finite(c.Scale) {
			return fieldErr("scale", "required and non-zero: value = volts*scale + offset")
		}
		if !finite(c.Offset) {
			return fieldErr("offset", "must be a finite number")
		}
		if err := c.checkQuantity(); err != nil {
			return err
		}
	case DriverPulse:
		if c.Pin == "" {
			return fieldErr("pin", "required: the GPIO pin the pulses arrive on (e.g. GPIO17)")
		}
		if c.PerPulse <= 0 || !finite(c.PerPulse) {
			return fieldErr("per_pulse", "required and > 0 (mm per tip, or m/s per Hz)")
		}
		if c.PulseMode != "" && c.PulseMode != PulseCount && c.PulseMode != PulseRate {
			return fieldErr("pulse_mode", "%q: want count or rate", c.PulseMode)
		}
		if c.Debounce < 0 || time.Duration(c.Debounce) > time.Second {
			return fieldErr("debounce", "%s: want 0 to 1s", time.Duration(c.Debounce))
		}
		if err := c.checkQuantity(); err != nil {
			return err
		}
	case DriverPMS5003, DriverSDS011:
		if c.Bus == "" {
			return fieldErr("bus", "required: the serial port (e.g. /dev/ttyAMA0 or /dev/ttyUSB0)")
		}
		if c.Baud != 0 && c.Baud != 9600 {
			return fieldErr("baud", "%d: %s talks at 9600 baud", c.Baud, c.Driver)
		}
	case DriverSim:
		if c.Profile == "" {
			return fieldErr("profile", "required, one of %s", strings.Join(Profiles(), ", "))
		}
		if !slices.Contains(Profiles(), c.Profile) {
			return fieldErr("profile", "unknown profile %q, want one of %s", c.Profile, strings.Join(Profiles(), ", "))
		}
	case DriverReplay:
		if c.Station == "" {
			return fieldErr("station", "required: the station name as in the CSV (e.g. NICE ARSON)")
		}
		for _, p := range c.Pollutants {
			if p == "" {
				return fieldErr("pollutants", "empty pollutant name")
			}
		}
		if c.Speedup < 0 || !finite(c.Speedup) || c.Speedup > 1e7 {
			return fieldErr("speedup", "%g: want a positive factor (1 = real time, 3600 = an hour per second)", c.Speedup)
		}
	}
	return nil
}

func (c SensorConfig) checkQuantity() error {
	if c.Quantity == "" {
		return fieldErr("quantity", "required for %s (e.g. water_level, soil_moisture, rain, wind_speed)", c.Driver)
	}
	if !smartdeal.ValidQuantity(c.Quantity) {
		return fieldErr("quantity", "%q: want [a-z][a-z0-9_]{0,62}", c.Quantity)
	}
	if !smartdeal.ValidUnit(c.Unit) {
		return fieldErr("unit", "%q: want a SenML unit such as m, %%, mm, m/s", c.Unit)
	}
	return nil
}

var fullScales = []float64{0.256, 0.512, 1.024, 2.048, 4.096, 6.144}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// ParseROM parses a 1-Wire ROM address written as in /sys/bus/w1/devices
// ("28-0000056d8a2f": family, dash, 48-bit serial) or as 16 hex digits of the
// 64-bit address, most significant byte (the CRC) first.
// It returns the address with the family code in the low byte, as periph's
// onewire.Address.
func ParseROM(s string) (uint64, error) {
	var v uint64
	if fam, serial, ok := strings.Cut(s, "-"); ok {
		if len(fam) != 2 || len(serial) != 12 {
			return 0, fmt.Errorf("%q: want ff-ssssssssssss (family-serial, hex)", s)
		}
		f, err := parseHex(fam)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		sn, err := parseHex(serial)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		v = sn<<8 | f
		return v | uint64(crc8(v))<<56, nil
	}
	if len(s) != 16 {
		return 0, fmt.Errorf("%q: want ff-ssssssssssss or 16 hex digits", s)
	}
	v, err := parseHex(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	if crc8(v&0x00FFFFFFFFFFFFFF) != byte(v>>56) {
		return 0, fmt.Errorf("%q: ROM CRC mismatch", s)
	}
	return v, nil
}

func parseHex(s string) (uint64, error) {
	var v uint64
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, fmt.Errorf("%q is not a hex digit", c)
		}
	}
	return v, nil
}

// crc8 is the Dallas/Maxim 1-Wire CRC of the 7 low bytes of a ROM address,
// least significant byte first.
func crc8(v uint64) byte {
	var crc byte
	for i := 0; i < 7; i++ {
		b := byte(v >> (8 * i))
		for j := 0; j < 8; j++ {
			mix := (crc ^ b) & 1
			crc >>= 1
			if mix != 0 {
				crc ^= 0x8C
			}
			b >>= 1
		}
	}
	return crc
}

// String returns the duration as "10s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the duration as "10s" (YAML and JSON).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "10s", "500ms", "1m30s" (used by JSON, and by decoders
// such as mapstructure that honour encoding.TextUnmarshaler).
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: want e.g. 10s, 500ms, 1m", s)
	}
	if v < 0 {
		return fmt.Errorf("%q: duration must not be negative", s)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML reads a YAML scalar such as 10s or "500ms". A bare number is
// refused (10 is ambiguous: seconds? nanoseconds?), except 0.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as 10s", n.Line)
	}
	if n.Value == "0" {
		*d = 0
		return nil
	}
	if err := d.UnmarshalText([]byte(n.Value)); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

// MarshalYAML writes the duration as "10s".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
