package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

type config struct {
	mode        string // live, drain, broker
	format      string // senml, lp
	n           int
	devices     int
	site        string
	mqttURL     string
	influxURL   string
	token       string
	org         string
	bucket      string // empty: a fresh database loadgen_<unix> (InfluxDB 1.8)
	publishers  int
	window      int // outstanding QoS 1 publishes per publisher
	timeout     time.Duration
	probeEvery  int
	ingestCmd   []string
	jsonOut     bool
	topicPrefix string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.mode, "mode", "live", "live, drain or broker")
	fs.StringVar(&c.format, "format", "senml", "payload format: senml or lp (line protocol)")
	fs.IntVar(&c.n, "n", 200000, "messages to publish (one reading each)")
	fs.IntVar(&c.devices, "devices", 100, "distinct devices the messages are spread over")
	fs.StringVar(&c.site, "site", "loadgen", "site id in the topics")
	fs.StringVar(&c.topicPrefix, "prefix", "smartdeal/v1", "MQTT topic prefix")
	fs.StringVar(&c.mqttURL, "mqtt", env("SMARTDEAL_MQTT_URL", "tcp://127.0.0.1:1883"), "broker URL")
	fs.StringVar(&c.influxURL, "influx", env("SMARTDEAL_INFLUX_URL", "http://127.0.0.1:8086"), "InfluxDB URL")
	fs.StringVar(&c.token, "token", getenv("SMARTDEAL_INFLUX_TOKEN"), "InfluxDB token (1.8: user:password or empty)")
	fs.StringVar(&c.org, "org", getenv("SMARTDEAL_INFLUX_ORG"), "InfluxDB org (empty for 1.8)")
	fs.StringVar(&c.bucket, "bucket", "", "bucket to count in; empty creates a fresh 1.8 database and passes it to the ingest as SMARTDEAL_INFLUX_BUCKET")
	fs.IntVar(&c.publishers, "publishers", 4, "publishing MQTT connections")
	fs.IntVar(&c.window, "window", 1000, "unacknowledged QoS 1 publishes per connection")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "give up when InfluxDB has not gained a point for this long")
	fs.IntVar(&c.probeEvery, "probe-every", 100, "every k-th message is a latency probe")
	fs.BoolVar(&c.jsonOut, "json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.ingestCmd = fs.Args()
	switch {
	case c.mode != "live" && c.mode != "drain" && c.mode != "broker":
		return c, fmt.Errorf("-mode %q: want live, drain or broker", c.mode)
	case c.format != "senml" && c.format != "lp":
		return c, fmt.Errorf("-format %q: want senml or lp", c.format)
	case c.n <= 0 || c.devices <= 0 || c.publishers <= 0 || c.window <= 0 || c.probeEvery <= 0:
		return c, errors.New("-n, -devices, -publishers, -window and -probe-every must be positive")
	case c.mode == "drain" && len(c.ingestCmd) == 0:
		return c, errors.New("-mode drain needs the ingest command after --")
	}
	return c, nil
}
