package drivers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
)

// SensorConfig describes one sensor of a gateway, as written in the gateway's
// YAML file under `sensors:`: the keys every sensor has, and its driver's own
// keys beside them, which decode into the driver's Options.
//
// Example:
//
//	driver: ads1x15       # every sensor: driver, device, interval, tags
//	device: river-level-1
//	interval: 30s
//	bus: "1"              # the driver's own keys (analog.Config)
//	address: 0x48
//	channel: 0
//	quantity: water_level
//	unit: m
//	scale: 1.25
//	offset: -0.10
//
// A key of another driver is ignored (a bus on a simulated sensor does no
// harm, and older files mix them); a key of no driver is an error naming
// its line, as yaml.v3's strict decoding reports unknown keys elsewhere.
type SensorConfig struct {
	// Driver is one of Names(). Required.
	Driver string `yaml:"driver" json:"driver"`
	// Device is the device id the readings are published under
	// (smartdeal.ValidID). Required.
	Device string `yaml:"device" json:"device"`
	// Interval is (optional) the read interval,
	// devices.MinInterval..devices.MaxInterval. Defaults to
	// devices.DefaultInterval.
	Interval devices.Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Tags are (optional) extra labels of the sensor (e.g. location: "pont-du-var").
	Tags map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
	// Options are the driver's own keys: a value of the type the table gives
	// the driver (e.g. *sim.Config for sim). Nil means the driver's zero
	// options (its defaults).
	Options Options `yaml:"-" json:"-"`
}

// common is SensorConfig without Options and its methods: what encoding/json
// and yaml.v3 handle by themselves.
type common struct {
	Driver   string            `yaml:"driver" json:"driver"`
	Device   string            `yaml:"device" json:"device"`
	Interval devices.Duration  `yaml:"interval,omitempty" json:"interval,omitempty"`
	Tags     map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

func (c *SensorConfig) common() common {
	return common{Driver: c.Driver, Device: c.Device, Interval: c.Interval, Tags: c.Tags}
}

func (c *SensorConfig) setCommon(m common) {
	c.Driver, c.Device, c.Interval, c.Tags = m.Driver, m.Device, m.Interval, m.Tags
}

// ReadInterval returns the configured interval, or devices.DefaultInterval.
func (c SensorConfig) ReadInterval() time.Duration {
	if c.Interval == 0 {
		return devices.DefaultInterval
	}
	return time.Duration(c.Interval)
}

// options returns the configured options, or the driver's zero ones.
func (c SensorConfig) options() Options {
	if c.Options != nil {
		return c.Options
	}
	o, _ := NewOptions(c.Driver)
	return o
}

// Validate checks the configuration: the keys every sensor has, then the
// driver's own (Options.Validate). The first problem found is returned as a
// *devices.FieldError naming the YAML key.
func (c SensorConfig) Validate() error {
	if c.Driver == "" {
		return devices.FieldErrorf("driver", "required, one of %s", driverList())
	}
	want := optionsType(c.Driver)
	if want == nil {
		return devices.FieldErrorf("driver", "unknown driver %q, want one of %s", c.Driver, driverList())
	}
	if c.Device == "" {
		return devices.FieldErrorf("device", "required: the device id readings are published under")
	}
	if !smartdeal.ValidID(c.Device) {
		return devices.FieldErrorf("device", "%q is not a valid id: want [a-z0-9][a-z0-9_-]{0,62}", c.Device)
	}
	if c.Interval != 0 {
		d := time.Duration(c.Interval)
		if d < devices.MinInterval || d > devices.MaxInterval {
			return devices.FieldErrorf("interval", "%s out of range, want %s to %s", d, devices.MinInterval, devices.MaxInterval)
		}
	}
	for k, v := range c.Tags {
		if !smartdeal.ValidQuantity(k) {
			return devices.FieldErrorf("tags", "key %q: want [a-z][a-z0-9_]{0,62}", k)
		}
		if len(v) > 256 {
			return devices.FieldErrorf("tags."+k, "value longer than 256 bytes")
		}
	}
	if c.Options != nil && reflect.TypeOf(c.Options) != want {
		return devices.FieldErrorf("driver", "%s takes %s options, not %T", c.Driver, want, c.Options)
	}
	return c.options().Validate()
}

// UnmarshalYAML reads the keys every sensor has, then the driver's own into
// a new value of its options. A key that belongs to no driver is reported as
// a *yaml.TypeError with its line, which yaml.v3 collects with the others.
func (c *SensorConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a sensor (driver, device…), not a %s", n.Line, kindName(n.Kind))
	}
	var m common
	if err := n.Decode(&m); err != nil {
		return err
	}
	c.setCommon(m)
	c.Options = nil
	var unknown []string
	known := yamlKeys()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !known[k.Value] {
			unknown = append(unknown, fmt.Sprintf("line %d: field %s not found in type drivers.SensorConfig", k.Line, k.Value))
		}
	}
	if len(unknown) > 0 {
		return &yaml.TypeError{Errors: unknown}
	}
	o, ok := NewOptions(m.Driver)
	if !ok {
		return nil // Validate names the driver
	}
	if err := n.Decode(o); err != nil {
		return err
	}
	c.Options = o
	return nil
}

// MarshalYAML writes the keys every sensor has, then the driver's own.
func (c SensorConfig) MarshalYAML() (any, error) {
	var out yaml.Node
	if err := out.Encode(c.common()); err != nil {
		return nil, err
	}
	if c.Options != nil {
		var o yaml.Node
		if err := o.Encode(c.Options); err != nil {
			return nil, err
		}
		out.Content = append(out.Content, o.Content...)
	}
	return &out, nil
}

// MarshalJSON writes one object: the keys every sensor has, then the
// driver's own (report_config shows it).
func (c SensorConfig) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(c.common())
	if err != nil || c.Options == nil {
		return b, err
	}
	o, err := json.Marshal(c.Options)
	if err != nil {
		return nil, err
	}
	if o = bytes.TrimSpace(o); len(o) <= 2 { // {}
		return b, nil
	}
	return append(append(b[:len(b)-1], ','), o[1:]...), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *SensorConfig) UnmarshalJSON(b []byte) error {
	var m common
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	c.setCommon(m)
	c.Options = nil
	o, ok := NewOptions(m.Driver)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(b, o); err != nil {
		return err
	}
	c.Options = o
	return nil
}

var (
	keysOnce sync.Once
	keys     map[string]bool
)

// yamlKeys is every key a sensor may have: the common ones and those of
// every driver's options.
func yamlKeys() map[string]bool {
	keysOnce.Do(func() {
		keys = map[string]bool{}
		addKeys(keys, reflect.TypeOf(common{}))
		for _, f := range table {
			addKeys(keys, reflect.TypeOf(f()).Elem())
		}
	})
	return keys
}

func addKeys(keys map[string]bool, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			keys[strings.ToLower(f.Name)] = true // yaml.v3's default key
		default:
			keys[name] = true
		}
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "value"
	default:
		return "YAML node"
	}
}
