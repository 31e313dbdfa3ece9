// Package boot holds what every SMART Deal program does before and around its
// real work: load configuration (defaults, then a YAML file, then SMARTDEAL_*
// environment variables), set up slog, turn SIGINT/SIGTERM into a cancelled
// context, and serve /healthz, /readyz and Prometheus /metrics.
//
// It deliberately links neither Fiber, nor the InfluxDB client, nor database/sql:
// the lean gateway binary uses it too.
package boot

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/knadh/koanf/maps"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix prefixes every environment variable the programs read.
const EnvPrefix = "SMARTDEAL_"

// EnvConfig names the environment variable that gives the config file's path
// when no -config flag is passed.
const EnvConfig = EnvPrefix + "CONFIG"

// Validator is a configuration struct that checks itself once loaded. Its
// errors name the YAML path of the offending field ("mqtt.url: …").
type Validator interface {
	Validate() error
}

// ErrUnknownKey is returned when the config file holds a key that no field of
// the configuration struct carries (usually a typo).
var ErrUnknownKey = errors.New("unknown config key")

// Load fills cfg, a pointer to a struct whose fields carry `koanf:"name"` tags
// and which already holds the defaults, from three layers, later ones winning:
//
//  1. the values already in cfg (the defaults),
//  2. the YAML file at path, or at $SMARTDEAL_CONFIG when path is empty
//     (no file at all is fine: defaults and environment are enough),
//  3. environment variables SMARTDEAL_<KEY>, where <KEY> is the flattened
//     key upper-cased with '.' replaced by '_' (mqtt.url → SMARTDEAL_MQTT_URL,
//     ingest.max_inflight → SMARTDEAL_INGEST_MAX_INFLIGHT).
//
// Environment variables are matched against the known keys, so keys may
// themselves contain underscores. Slice fields take comma-separated values
// from the environment. Finally cfg.Validate() runs; its error is returned
// wrapped.
func Load(cfg Validator, path string, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	defaults, kinds, err := flatten(cfg)
	if err != nil {
		return err
	}
	k := koanf.New(".")
	if err := k.Load(mapProvider(maps.Unflatten(defaults, ".")), nil); err != nil {
		return fmt.Errorf("config defaults: %w", err)
	}
	if path == "" {
		path = getenv(EnvConfig)
	}
	if path != "" {
		fk := koanf.New(".")
		if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
		for _, key := range fk.Keys() {
			if _, ok := kinds[key]; !ok && !underSliceOrMap(key, kinds) {
				return fmt.Errorf("config file %s: %s: %w", path, key, ErrUnknownKey)
			}
		}
		if err := k.Merge(fk); err != nil {
			return fmt.Errorf("config file %s: %w", path, err)
		}
	}
	env := make(map[string]any)
	for key, kind := range kinds {
		v := getenv(EnvName(key))
		if v == "" {
			continue
		}
		if kind == reflect.Slice {
			parts := strings.Split(v, ",")
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			env[key] = parts
			continue
		}
		env[key] = v
	}
	if len(env) > 0 {
		if err := k.Load(mapProvider(maps.Unflatten(env, ".")), nil); err != nil {
			return fmt.Errorf("config environment: %w", err)
		}
	}
	if err := k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// EnvName returns the environment variable that overrides a flattened key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Keys lists the flattened keys of a configuration struct with their default
// values, sorted, for documentation and -help output.
func Keys(cfg any) ([]KeyInfo, error) {
	flat, _, err := flatten(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(flat))
	for k, v := range flat {
		out = append(out, KeyInfo{Key: k, Env: EnvName(k), Default: fmt.Sprint(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// KeyInfo describes one configuration key.
type KeyInfo struct {
	Key     string // flattened YAML path, e.g. mqtt.url
	Env     string // SMARTDEAL_MQTT_URL
	Default string
}

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// flatten walks a struct (or pointer to one) and returns its leaf values by
// flattened koanf key, and the reflect.Kind of each leaf.
func flatten(cfg any) (map[string]any, map[string]reflect.Kind, error) {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, nil, errors.New("config: nil pointer")
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("config: want a struct, got %s", v.Kind())
	}
	vals := make(map[string]any)
	kinds := make(map[string]reflect.Kind)
	walk(v, "", vals, kinds)
	return vals, kinds, nil
}

func walk(v reflect.Value, prefix string, vals map[string]any, kinds map[string]reflect.Kind) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct && f.Type != durationType &&
			!reflect.PointerTo(f.Type).Implements(textUnmarshalerType) {
			walk(fv, key, vals, kinds)
			continue
		}
		vals[key] = fv.Interface()
		kinds[key] = fv.Kind()
	}
}

// underSliceOrMap reports whether a file key lies below a slice or map leaf
// (e.g. a map field's entries), which the leaf itself accepts.
func underSliceOrMap(key string, kinds map[string]reflect.Kind) bool {
	for k, kind := range kinds {
		if (kind == reflect.Map || kind == reflect.Slice) && strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// mapProvider is a koanf.Provider over an in-memory nested map.
type mapProvider map[string]any

func (m mapProvider) ReadBytes() ([]byte, error) {
	return nil, errors.New("mapProvider does not support ReadBytes")
}

func (m mapProvider) Read() (map[string]any, error) { return maps.Copy(m), nil }
