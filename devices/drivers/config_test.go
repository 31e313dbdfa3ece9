package drivers

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/analog"
	"github.com/cd06/smartdeal/devices/bme280"
	"github.com/cd06/smartdeal/devices/ds18b20"
	"github.com/cd06/smartdeal/devices/pms5003"
	"github.com/cd06/smartdeal/devices/pulse"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/devices/sds011"
	"github.com/cd06/smartdeal/devices/sim"
)

func TestSensorConfigYAML(t *testing.T) {
	const doc = `
- driver: ads1x15
  device: river-level-1
  bus: "1"
  address: 0x49
  channel: 2
  quantity: water_level
  unit: m
  scale: 1.25
  offset: -0.1
  interval: 30s
  tags: {location: pont-du-var}
- driver: pulse
  device: rain-1
  pin: GPIO17
  per_pulse: 0.2794
  quantity: rain
  unit: mm
  debounce: 10ms
- driver: replay
  device: nice-arson
  station: NICE ARSON
  pollutants: [PM10, PM2.5]
  speedup: 3600
  interval: 500ms
`
	var got []SensorConfig
	if err := yaml.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d sensors", len(got))
	}
	for i, c := range got {
		if err := c.Validate(); err != nil {
			t.Errorf("sensor %d: %v", i, err)
		}
	}
	a := got[0]
	ao, ok := a.Options.(*analog.Config)
	if !ok || ao.Bus != "1" || ao.Address != 0x49 || ao.Channel != 2 || ao.Scale != 1.25 || ao.Offset != -0.1 || ao.Quantity != "water_level" ||
		a.ReadInterval() != 30*time.Second || a.Tags["location"] != "pont-du-var" {
		t.Errorf("ads1x15 decoded as %+v %+v", a, a.Options)
	}
	if po, ok := got[1].Options.(*pulse.Config); !ok || po.Debounce != devices.Duration(10*time.Millisecond) || po.Pin != "GPIO17" || got[1].ReadInterval() != devices.DefaultInterval {
		t.Errorf("pulse decoded as %+v %+v", got[1], got[1].Options)
	}
	if ro, ok := got[2].Options.(*replay.Config); !ok || got[2].ReadInterval() != 500*time.Millisecond || len(ro.Pollutants) != 2 || ro.Station != "NICE ARSON" {
		t.Errorf("replay decoded as %+v %+v", got[2], got[2].Options)
	}
	// Round trip through YAML and JSON keeps "30s" and the driver's keys,
	// written flat beside the common ones.
	out, err := yaml.Marshal(a)
	if err != nil || !strings.Contains(string(out), "interval: 30s") || !strings.Contains(string(out), "\nchannel: 2\n") {
		t.Errorf("yaml marshal: %v\n%s", err, out)
	}
	var backY SensorConfig
	if err := yaml.Unmarshal(out, &backY); err != nil || !reflect.DeepEqual(backY, a) {
		t.Errorf("yaml round trip: %v\n%+v %+v\nwant %+v %+v", err, backY, backY.Options, a, a.Options)
	}
	j, err := json.Marshal(a)
	if err != nil || !strings.Contains(string(j), `"interval":"30s"`) || !strings.Contains(string(j), `,"channel":2,`) {
		t.Errorf("json marshal: %v %s", err, j)
	}
	var back SensorConfig
	if err := json.Unmarshal(j, &back); err != nil || !reflect.DeepEqual(back, a) {
		t.Errorf("json unmarshal: %v %+v %+v", err, back, back.Options)
	}
}

func TestDurationYAMLErrors(t *testing.T) {
	for _, in := range []string{"interval: 10", "interval: ten", "interval: -5s", "interval: [1s]"} {
		var c SensorConfig
		err := yaml.Unmarshal([]byte(in), &c)
		if err == nil {
			t.Errorf("%q: no error, got %v", in, c.Interval)
		}
	}
	var c SensorConfig
	if err := yaml.Unmarshal([]byte("interval: 0"), &c); err != nil || c.Interval != 0 {
		t.Errorf("interval: 0 → %v %v", c.Interval, err)
	}
}

func TestSensorConfigValidate(t *testing.T) {
	ok := map[string]SensorConfig{
		"bme280":                     {Driver: "bme280", Device: "weather-1"},
		"bmp280":                     {Driver: "bmp280", Device: "weather-2", Options: &bme280.Config{Address: 0x77}},
		"ds18b20":                    {Driver: "ds18b20", Device: "water-temp", Options: &ds18b20.Config{ROM: "28-0000056d8a2f"}},
		"ads1x15":                    {Driver: "ads1x15", Device: "soil", Options: &analog.Config{Quantity: "soil_moisture", Unit: "%", Scale: 30, FullScale: 4.096}},
		"pulse":                      {Driver: "pulse", Device: "wind", Options: &pulse.Config{Pin: "GPIO27", PerPulse: 0.667, PulseMode: "rate", Quantity: "wind_speed", Unit: "m/s"}},
		"pms5003":                    {Driver: "pms5003", Device: "pm-1", Options: &pms5003.Config{Bus: "/dev/ttyAMA0"}},
		"sds011":                     {Driver: "sds011", Device: "pm-2", Options: &sds011.Config{Bus: "/dev/ttyUSB0", Baud: 9600}},
		"sim":                        {Driver: "sim", Device: "sim-1", Options: &sim.Config{Profile: "air"}, Interval: devices.Duration(100 * time.Millisecond)},
		"replay":                     {Driver: "replay", Device: "rep", Options: &replay.Config{Station: "NICE ARSON"}},
		"bmp280 options of a bme280": {Driver: "bme280", Device: "weather-3", Options: &bme280.Config{Humidity: true}},
	}
	for name, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := []struct {
		name  string
		cfg   SensorConfig
		field string
	}{
		{"no driver", SensorConfig{Device: "a"}, "driver"},
		{"unknown driver", SensorConfig{Driver: "dht22", Device: "a"}, "driver"},
		{"options of another driver", SensorConfig{Driver: "sim", Device: "a", Options: &replay.Config{Station: "X"}}, "driver"},
		{"no device", SensorConfig{Driver: "sim", Options: &sim.Config{Profile: "air"}}, "device"},
		{"bad device", SensorConfig{Driver: "sim", Device: "Weather 1", Options: &sim.Config{Profile: "air"}}, "device"},
		{"interval too short", SensorConfig{Driver: "sim", Device: "a", Options: &sim.Config{Profile: "air"}, Interval: devices.Duration(time.Millisecond)}, "interval"},
		{"bad tag key", SensorConfig{Driver: "sim", Device: "a", Options: &sim.Config{Profile: "air"}, Tags: map[string]string{"Bad Key": "x"}}, "tags"},
		{"bme address", SensorConfig{Driver: "bme280", Device: "a", Options: &bme280.Config{Address: 0x40}}, "address"},
		{"ds18b20 rom", SensorConfig{Driver: "ds18b20", Device: "a", Options: &ds18b20.Config{ROM: "28-xyz"}}, "rom"},
		{"ds18b20 rom crc", SensorConfig{Driver: "ds18b20", Device: "a", Options: &ds18b20.Config{ROM: "000000056d8a2f28"}}, "rom"},
		{"ads address", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Address: 0x50, Scale: 1, Quantity: "x"}}, "address"},
		{"ads chip", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Chip: "ads1234", Scale: 1, Quantity: "x"}}, "chip"},
		{"ads channel", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Channel: 4, Scale: 1, Quantity: "x"}}, "channel"},
		{"ads full scale", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{FullScale: 5, Scale: 1, Quantity: "x"}}, "full_scale"},
		{"ads scale", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Quantity: "x"}}, "scale"},
		{"ads quantity", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Scale: 1}}, "quantity"},
		{"ads default options", SensorConfig{Driver: "ads1x15", Device: "a"}, "scale"},
		{"ads bad quantity", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Scale: 1, Quantity: "Water Level"}}, "quantity"},
		{"ads bad unit", SensorConfig{Driver: "ads1x15", Device: "a", Options: &analog.Config{Scale: 1, Quantity: "x", Unit: "m s"}}, "unit"},
		{"pulse pin", SensorConfig{Driver: "pulse", Device: "a", Options: &pulse.Config{PerPulse: 1, Quantity: "rain"}}, "pin"},
		{"pulse factor", SensorConfig{Driver: "pulse", Device: "a", Options: &pulse.Config{Pin: "GPIO17", Quantity: "rain"}}, "per_pulse"},
		{"pulse mode", SensorConfig{Driver: "pulse", Device: "a", Options: &pulse.Config{Pin: "GPIO17", PerPulse: 1, PulseMode: "avg", Quantity: "rain"}}, "pulse_mode"},
		{"pulse debounce", SensorConfig{Driver: "pulse", Device: "a", Options: &pulse.Config{Pin: "GPIO17", PerPulse: 1, Debounce: devices.Duration(2 * time.Second), Quantity: "rain"}}, "debounce"},
		{"pms port", SensorConfig{Driver: "pms5003", Device: "a"}, "bus"},
		{"sds baud", SensorConfig{Driver: "sds011", Device: "a", Options: &sds011.Config{Bus: "/dev/ttyUSB0", Baud: 115200}}, "baud"},
		{"sim profile", SensorConfig{Driver: "sim", Device: "a"}, "profile"},
		{"sim unknown profile", SensorConfig{Driver: "sim", Device: "a", Options: &sim.Config{Profile: "ocean"}}, "profile"},
		{"replay station", SensorConfig{Driver: "replay", Device: "a"}, "station"},
		{"replay speedup", SensorConfig{Driver: "replay", Device: "a", Options: &replay.Config{Station: "X", Speedup: -1}}, "speedup"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var fe *devices.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a *FieldError, got %v", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if !errors.Is(err, devices.ErrConfig) || !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("error %q does not start with the field name", err)
			}
		})
	}
}

// TestSensorConfigYAMLKeys: a sensor's YAML mixes the keys every sensor has
// with its driver's own, as before the options moved into the driver
// packages. A key of another driver is ignored, as it always was; a key of
// no driver is an error naming its line; a driver key of the wrong type is
// yaml.v3's usual type error.
func TestSensorConfigYAMLKeys(t *testing.T) {
	var c SensorConfig
	if err := yaml.Unmarshal([]byte("driver: sim\ndevice: air-1\nprofile: air\nbus: \"1\"\naddress: 0x76\n"), &c); err != nil {
		t.Fatal(err)
	}
	if o, ok := c.Options.(*sim.Config); !ok || o.Profile != "air" || c.Validate() != nil {
		t.Fatalf("sim with keys of other drivers: %+v %+v %v", c, c.Options, c.Validate())
	}
	if err := yaml.Unmarshal([]byte("driver: bme280\ndevice: w-1\n\nadress: 0x76\n"), &c); err == nil ||
		!strings.Contains(err.Error(), "line 4: field adress not found") {
		t.Fatalf("unknown key: %v", err)
	}
	if err := yaml.Unmarshal([]byte("driver: bme280\ndevice: w-1\naddress: near\n"), &c); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("wrong type: %v", err)
	}
	if err := yaml.Unmarshal([]byte("- driver: sim"), &c); err == nil {
		t.Fatal("a list decoded as a sensor")
	}
	// A later decode into the same value does not keep the earlier options.
	if err := yaml.Unmarshal([]byte("driver: ds18b20\ndevice: t-1\n"), &c); err != nil {
		t.Fatal(err)
	}
	if o, ok := c.Options.(*ds18b20.Config); !ok || *o != (ds18b20.Config{}) {
		t.Fatalf("ds18b20 without keys: %+v", c.Options)
	}
	// bme280 and bmp280 share a type; the table line says which chip is expected.
	if err := yaml.Unmarshal([]byte("driver: bme280\ndevice: w-1\n"), &c); err != nil || !c.Options.(*bme280.Config).Humidity {
		t.Fatalf("bme280: %+v %v", c.Options, err)
	}
	if err := yaml.Unmarshal([]byte("driver: bmp280\ndevice: w-1\n"), &c); err != nil || c.Options.(*bme280.Config).Humidity {
		t.Fatalf("bmp280: %+v %v", c.Options, err)
	}
	// An unknown driver decodes (its keys cannot be checked) and fails Validate.
	if err := yaml.Unmarshal([]byte("driver: dht22\ndevice: w-1\n"), &c); err != nil || c.Options != nil {
		t.Fatalf("unknown driver: %+v %v", c, err)
	}
	var fe *devices.FieldError
	if err := c.Validate(); !errors.As(err, &fe) || fe.Field != "driver" {
		t.Fatalf("unknown driver: %v", err)
	}
}
