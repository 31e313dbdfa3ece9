package devices

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
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
	if a.Address != 0x49 || a.Channel != 2 || a.Scale != 1.25 || a.Offset != -0.1 ||
		a.ReadInterval() != 30*time.Second || a.Tags["location"] != "pont-du-var" {
		t.Errorf("ads1x15 decoded as %+v", a)
	}
	if got[1].Debounce != Duration(10*time.Millisecond) || got[1].ReadInterval() != DefaultInterval {
		t.Errorf("pulse decoded as %+v", got[1])
	}
	if got[2].ReadInterval() != 500*time.Millisecond || len(got[2].Pollutants) != 2 {
		t.Errorf("replay decoded as %+v", got[2])
	}
	// Round trip through YAML and JSON keeps "30s".
	out, err := yaml.Marshal(a)
	if err != nil || !strings.Contains(string(out), "interval: 30s") {
		t.Errorf("yaml marshal: %v\n%s", err, out)
	}
	j, err := json.Marshal(a)
	if err != nil || !strings.Contains(string(j), `"interval":"30s"`) {
		t.Errorf("json marshal: %v %s", err, j)
	}
	var back SensorConfig
	if err := json.Unmarshal(j, &back); err != nil || back.Interval != a.Interval {
		t.Errorf("json unmarshal: %v %+v", err, back)
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
		"bme280":  {Driver: "bme280", Device: "weather-1"},
		"bmp280":  {Driver: "bmp280", Device: "weather-2", Address: 0x77},
		"ds18b20": {Driver: "ds18b20", Device: "water-temp", ROM: "28-0000056d8a2f"},
		"ads1x15": {Driver: "ads1x15", Device: "soil", Quantity: "soil_moisture", Unit: "%", Scale: 30, FullScale: 4.096},
		"pulse":   {Driver: "pulse", Device: "wind", Pin: "GPIO27", PerPulse: 0.667, PulseMode: "rate", Quantity: "wind_speed", Unit: "m/s"},
		"pms5003": {Driver: "pms5003", Device: "pm-1", Bus: "/dev/ttyAMA0"},
		"sds011":  {Driver: "sds011", Device: "pm-2", Bus: "/dev/ttyUSB0", Baud: 9600},
		"sim":     {Driver: "sim", Device: "sim-1", Profile: "air", Interval: Duration(100 * time.Millisecond)},
		"replay":  {Driver: "replay", Device: "rep", Station: "NICE ARSON"},
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
		{"no device", SensorConfig{Driver: "sim", Profile: "air"}, "device"},
		{"bad device", SensorConfig{Driver: "sim", Device: "Weather 1", Profile: "air"}, "device"},
		{"interval too short", SensorConfig{Driver: "sim", Device: "a", Profile: "air", Interval: Duration(time.Millisecond)}, "interval"},
		{"bad tag key", SensorConfig{Driver: "sim", Device: "a", Profile: "air", Tags: map[string]string{"Bad Key": "x"}}, "tags"},
		{"bme address", SensorConfig{Driver: "bme280", Device: "a", Address: 0x40}, "address"},
		{"ds18b20 rom", SensorConfig{Driver: "ds18b20", Device: "a", ROM: "28-xyz"}, "rom"},
		{"ds18b20 rom crc", SensorConfig{Driver: "ds18b20", Device: "a", ROM: "000000056d8a2f28"}, "rom"},
		{"ads address", SensorConfig{Driver: "ads1x15", Device: "a", Address: 0x50, Scale: 1, Quantity: "x"}, "address"},
		{"ads chip", SensorConfig{Driver: "ads1x15", Device: "a", Chip: "ads1234", Scale: 1, Quantity: "x"}, "chip"},
		{"ads channel", SensorConfig{Driver: "ads1x15", Device: "a", Channel: 4, Scale: 1, Quantity: "x"}, "channel"},
		{"ads full scale", SensorConfig{Driver: "ads1x15", Device: "a", FullScale: 5, Scale: 1, Quantity: "x"}, "full_scale"},
		{"ads scale", SensorConfig{Driver: "ads1x15", Device: "a", Quantity: "x"}, "scale"},
		{"ads quantity", SensorConfig{Driver: "ads1x15", Device: "a", Scale: 1}, "quantity"},
		{"ads bad quantity", SensorConfig{Driver: "ads1x15", Device: "a", Scale: 1, Quantity: "Water Level"}, "quantity"},
		{"ads bad unit", SensorConfig{Driver: "ads1x15", Device: "a", Scale: 1, Quantity: "x", Unit: "m s"}, "unit"},
		{"pulse pin", SensorConfig{Driver: "pulse", Device: "a", PerPulse: 1, Quantity: "rain"}, "pin"},
		{"pulse factor", SensorConfig{Driver: "pulse", Device: "a", Pin: "GPIO17", Quantity: "rain"}, "per_pulse"},
		{"pulse mode", SensorConfig{Driver: "pulse", Device: "a", Pin: "GPIO17", PerPulse: 1, PulseMode: "avg", Quantity: "rain"}, "pulse_mode"},
		{"pulse debounce", SensorConfig{Driver: "pulse", Device: "a", Pin: "GPIO17", PerPulse: 1, Debounce: Duration(2 * time.Second), Quantity: "rain"}, "debounce"},
		{"pms port", SensorConfig{Driver: "pms5003", Device: "a"}, "bus"},
		{"sds baud", SensorConfig{Driver: "sds011", Device: "a", Bus: "/dev/ttyUSB0", Baud: 115200}, "baud"},
		{"sim profile", SensorConfig{Driver: "sim", Device: "a"}, "profile"},
		{"sim unknown profile", SensorConfig{Driver: "sim", Device: "a", Profile: "ocean"}, "profile"},
		{"replay station", SensorConfig{Driver: "replay", Device: "a"}, "station"},
		{"replay speedup", SensorConfig{Driver: "replay", Device: "a", Station: "X", Speedup: -1}, "speedup"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("want a *FieldError, got %v", err)
			}
			if fe.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", fe.Field, tc.field, err)
			}
			if !errors.Is(err, ErrConfig) || !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("error %q does not start with the field name", err)
			}
		})
	}
}

func TestParseROM(t *testing.T) {
	a, err := ParseROM("28-0000056d8a2f")
	if err != nil {
		t.Fatal(err)
	}
	if a&0xFF != 0x28 || (a>>8)&0xFFFFFFFFFFFF != 0x0000056d8a2f {
		t.Fatalf("%#x", a)
	}
	// The 16-hex-digit form with the computed CRC parses to the same address.
	b, err := ParseROM(strings.ToUpper(hex16(a)))
	if err != nil || b != a {
		t.Fatalf("%#x %v", b, err)
	}
}

func hex16(v uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&0xF]
		v >>= 4
	}
	return string(b[:])
}
