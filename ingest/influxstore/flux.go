package influxstore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cd06/smartdeal"
)

// The query builders below produce the Flux shapes the schema is designed
// for (docs/influxdb-schema.md). InfluxDB 1.8 cannot bind Flux parameters,
// so they interpolate only validated identifiers and formatted times, and
// return an error for anything else.

// AggregateFuncs are the aggregates FluxSeries accepts.
var AggregateFuncs = map[string]bool{"mean": true, "min": true, "max": true, "sum": true, "count": true, "last": true, "first": true, "median": true}

// FluxSeries returns one series (site, device, quantity) over [start, stop),
// aggregated into windows of every with fn (mean, min, max…), all missions
// and units merged into one table.
func FluxSeries(bucket, site, device, quantity string, start, stop time.Time, every time.Duration, fn string) (string, error) {
	if err := checkSeries(bucket, site, device, quantity); err != nil {
		return "", err
	}
	if !AggregateFuncs[fn] {
		return "", fmt.Errorf("flux: aggregate %q not supported", fn)
	}
	if every < time.Second || !stop.After(start) {
		return "", fmt.Errorf("flux: want every ≥ 1s and stop after start")
	}
	return fmt.Sprintf(`from(bucket: %s)
  |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == "telemetry" and r.site == %s and r.device == %s and r.quantity == %s and r._field == "value")
  |> group(columns: ["site", "device", "quantity"])
  |> sort(columns: ["_time"])
  |> aggregateWindow(every: %ds, fn: %s, createEmpty: false)`,
		strconv.Quote(bucket), start.UTC().Format(time.RFC3339Nano), stop.UTC().Format(time.RFC3339Nano),
		strconv.Quote(site), strconv.Quote(device), strconv.Quote(quantity), int64(every/time.Second), fn), nil
}

// FluxLatest returns the latest value of every series of a site (each field:
// value, text, flag, sum) seen since lookback ago: one row per device,
// quantity and field.
func FluxLatest(bucket, site string, lookback time.Duration) (string, error) {
	if err := checkBucket(bucket); err != nil {
		return "", err
	}
	if err := smartdeal.CheckID("site", site); err != nil {
		return "", err
	}
	if lookback < time.Second {
		return "", fmt.Errorf("flux: lookback %s too short", lookback)
	}
	// last() per stored series first (pushed down to the storage engine),
	// then regroup the few rows left so a series split by mission tags
	// yields one latest row.
	return fmt.Sprintf(`from(bucket: %s)
  |> range(start: -%ds)
  |> filter(fn: (r) => r._measurement == "telemetry" and r.site == %s)
  |> last()
  |> group(columns: ["site", "device", "quantity", "_field"])
  |> sort(columns: ["_time"])
  |> last()`, strconv.Quote(bucket), int64(lookback/time.Second), strconv.Quote(site)), nil
}

// FluxTrack returns a drone's track during a mission: one row per time with
// latitude, longitude and altitude columns.
func FluxTrack(bucket, site, device, mission string, start, stop time.Time) (string, error) {
	if err := checkBucket(bucket); err != nil {
		return "", err
	}
	for kind, id := range map[string]string{"site": site, "device": device, "mission": mission} {
		if err := smartdeal.CheckID(kind, id); err != nil {
			return "", err
		}
	}
	if !stop.After(start) {
		return "", fmt.Errorf("flux: stop must be after start")
	}
	return fmt.Sprintf(`from(bucket: %s)
  |> range(start: %s, stop: %s)
  |> filter(fn: (r) => r._measurement == "telemetry" and r.site == %s and r.device == %s and r.mission == %s and r._field == "value"
       and (r.quantity == "latitude" or r.quantity == "longitude" or r.quantity == "altitude"))
  |> group(columns: ["site", "device", "mission"])
  |> pivot(rowKey: ["_time"], columnKey: ["quantity"], valueColumn: "_value")
  |> sort(columns: ["_time"])`,
		strconv.Quote(bucket), start.UTC().Format(time.RFC3339Nano), stop.UTC().Format(time.RFC3339Nano),
		strconv.Quote(site), strconv.Quote(device), strconv.Quote(mission)), nil
}

func checkSeries(bucket, site, device, quantity string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if err := smartdeal.CheckID("site", site); err != nil {
		return err
	}
	if err := smartdeal.CheckID("device", device); err != nil {
		return err
	}
	if !smartdeal.ValidQuantity(quantity) {
		return fmt.Errorf("quantity %q: %w", quantity, smartdeal.ErrInvalidQuantity)
	}
	return nil
}

func checkBucket(bucket string) error {
	if bucket == "" || len(bucket) > 128 || strings.ContainsAny(bucket, "\"\\\n\r") {
		return fmt.Errorf("flux: invalid bucket %q", bucket)
	}
	return nil
}
