package influxstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/influxschema"
	"github.com/cd06/smartdeal/internal/testenv"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)

func newStore(t *testing.T, in *testenv.Influx, db string, mod func(*Config)) *Store {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL = in.URL
	cfg.Bucket = db + "/autogen"
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestWriteAndQuery(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	s := newStore(t, in, db, nil)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rs := []smartdeal.Reading{
		{Site: "s", Device: "d", Quantity: "temperature", Unit: "Cel", Time: t0, Number: 21.5},
		{Site: "s", Device: "d", Quantity: "temperature", Unit: "Cel", Time: t0.Add(time.Second), Number: 22},
		{Site: "s", Device: "d", Quantity: "status", Kind: smartdeal.KindString, Time: t0, Text: "line1\nline2 \"q\""},
		{Site: "s", Device: "d", Quantity: "door", Kind: smartdeal.KindBool, Time: t0, Bool: true},
		{Site: "s", Device: "d", Quantity: "rain", Unit: "m", Time: t0, Number: 0.001, HasSum: true, Sum: 0.25},
	}
	// Written twice: the second write is a redelivery and must collapse.
	for range 2 {
		if err := s.Write(ctx, influxschema.AppendPoints(nil, rs)); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := in.Flux(ctx, fmt.Sprintf(`from(bucket:%q) |> range(start: 2026-01-01T00:00:00Z) |> filter(fn: (r) => r._measurement == "telemetry")`, db+"/autogen"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		if r["_field"] == "_field" {
			continue // testenv.Flux: csv.Reader drops the blank line before a new table's header
		}
		got[r["quantity"]+"/"+r["_field"]+"@"+r["_time"]] = r["_value"]
	}
	want := map[string]string{
		"temperature/value@2026-11-27T10:00:00.123456789Z": "21.5",
		"temperature/value@2026-11-27T10:00:01.123456789Z": "22",
		"status/text@2026-11-27T10:00:00.123456789Z":       `line1\nline2 "q"`,
		"door/flag@2026-11-27T10:00:00.123456789Z":         "true",
		"rain/value@2026-11-27T10:00:00.123456789Z":        "0.001",
		"rain/sum@2026-11-27T10:00:00.123456789Z":          "0.25",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows:\n%v\nwant\n%v", got, want)
	}
}

func TestWriteErrorClasses(t *testing.T) {
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	ctx := context.Background()
	num := smartdeal.Reading{Site: "s", Device: "d", Quantity: "temperature", Time: t0, Number: 1}

	t.Run("type conflict is bad data", func(t *testing.T) {
		s := newStore(t, in, db, nil)
		// Our schema never writes value as a string; someone else did.
		if err := s.Write(ctx, []byte(`telemetry,device=d,quantity=temperature,site=s value="hot" 1795773600000000000`)); err != nil {
			t.Fatal(err)
		}
		num := num
		num.Time = t0.Add(time.Second)
		err := s.Write(ctx, influxschema.AppendPoints(nil, []smartdeal.Reading{num}))
		var we *WriteError
		if !errors.As(err, &we) || !we.BadData() || we.Status != 400 {
			t.Fatalf("err = %#v, want bad data 400", err)
		}
	})
	t.Run("missing database is config", func(t *testing.T) {
		s := newStore(t, in, "nosuchdb_x", nil)
		err := s.Write(ctx, influxschema.AppendPoints(nil, []smartdeal.Reading{num}))
		var we *WriteError
		if !errors.As(err, &we) || !we.ConfigProblem() || we.Status != 404 {
			t.Fatalf("err = %v, want config 404", err)
		}
	})
	t.Run("refused connection is retryable", func(t *testing.T) {
		port := testenv.FreePort(t)
		s, err := New(Config{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Bucket: "x/autogen", Timeout: time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.Write(ctx, influxschema.AppendPoints(nil, []smartdeal.Reading{num}))
		var we *WriteError
		if !errors.As(err, &we) || we.Class != ClassRetryable || we.Status != 0 {
			t.Fatalf("err = %v, want retryable network error", err)
		}
		if s.Ping(ctx) == nil {
			t.Fatal("ping of a closed port succeeded")
		}
	})
	t.Run("503 is retryable, 401 config", func(t *testing.T) {
		for status, class := range map[int]Class{503: ClassRetryable, 429: ClassRetryable, 401: ClassConfig, 413: ClassBadData} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(status)
			}))
			s, err := New(Config{URL: srv.URL, Bucket: "x/autogen", Timeout: time.Second}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Write(ctx, []byte("telemetry,device=d,quantity=q,site=s value=1 1\n"))
			var we *WriteError
			if !errors.As(err, &we) || we.Class != class || we.Status != status {
				t.Errorf("status %d: err = %v, want class %s", status, err, class)
			}
			s.Close()
			srv.Close()
		}
	})
}

func TestEnsureDatabase(t *testing.T) {
	in := testenv.SharedInflux(t)
	name := fmt.Sprintf("ensure_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { _, _ = in.InfluxQL(context.Background(), "DROP DATABASE "+name) })
	s := newStore(t, in, name, func(c *Config) { c.CreateDatabase = true })
	ctx := context.Background()
	for range 2 { // idempotent
		if err := s.EnsureDatabase(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(ctx, influxschema.AppendPoints(nil, []smartdeal.Reading{{Site: "s", Device: "d", Quantity: "q", Time: t0, Number: 1}})); err != nil {
		t.Fatalf("write after create: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.URL = "127.0.0.1:8086" }, "influx.url"},
		{func(c *Config) { c.Bucket = "" }, "influx.bucket"},
		{func(c *Config) { c.CreateDatabase = true; c.Bucket = "a b/autogen" }, "influx.bucket"},
		{func(c *Config) { c.Timeout = 0 }, "influx.timeout"},
		{func(c *Config) { c.CAFile = "/nonexistent.pem" }, "influx.ca_file"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.mod(&c)
		if err := c.Validate("influx"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want one naming %s", err, tt.want)
		}
	}
	if err := DefaultConfig().Validate("influx"); err != nil {
		t.Fatal(err)
	}
}
