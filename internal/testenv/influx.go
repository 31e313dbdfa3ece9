package testenv

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal/internal/services"
)

// Influx is an InfluxDB 1.8 server with the v2 write API and Flux enabled.
type Influx struct {
	URL  string   // http://127.0.0.1:port
	proc *process // nil for a shared server the test did not start
}

// StartInflux starts a dedicated influxd with a temp data dir on two free ports
// (HTTP and RPC) and stops it when the test ends.
func StartInflux(t testing.TB) *Influx {
	t.Helper()
	bin := findBinary(t, "SMARTDEAL_INFLUXD", "influxd", "run `make test`, which builds InfluxDB 1.8.10 once into ~/.cache/smartdeal/bin")
	dir := t.TempDir()
	httpPort, rpcPort := FreePort(t), FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", itoa(httpPort))
	in := &Influx{URL: "http://" + addr}
	in.proc = &process{
		t: t, name: "influxd", path: bin, args: []string{"run"},
		env:     services.InfluxdEnv(dir, httpPort, rpcPort),
		logPath: filepath.Join(dir, "influxd.log"),
		ready:   in.healthy,
	}
	if err := in.proc.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.proc.cleanup)
	return in
}

// SharedInflux returns the InfluxDB that `make test` started
// (SMARTDEAL_TEST_INFLUX_URL), or starts a dedicated one. Tests that stop
// InfluxDB must use StartInflux instead.
func SharedInflux(t testing.TB) *Influx {
	t.Helper()
	if u := os.Getenv("SMARTDEAL_TEST_INFLUX_URL"); u != "" {
		return &Influx{URL: strings.TrimSuffix(u, "/")}
	}
	return StartInflux(t)
}

func (in *Influx) healthy(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.URL+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errNotReady
	}
	return nil
}

// Stop stops the server (SIGTERM) and waits for it to exit.
func (in *Influx) Stop(t testing.TB) {
	t.Helper()
	if in.proc == nil {
		t.Fatal("cannot stop a shared InfluxDB; use StartInflux")
	}
	in.proc.stop(syscall.SIGTERM)
}

// Start starts a stopped server again with the same ports and data.
func (in *Influx) Start(t testing.TB) {
	t.Helper()
	if in.proc == nil {
		t.Fatal("cannot start a shared InfluxDB; use StartInflux")
	}
	if err := in.proc.start(); err != nil {
		t.Fatal(err)
	}
}

var dbSeq atomic.Int64

// NewDatabase creates a database with a unique name for this test and returns
// its name; the v2 bucket is name + "/autogen".
func (in *Influx) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, dbSeq.Add(1))
	if _, err := in.InfluxQL(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { _, _ = in.InfluxQL(context.Background(), "DROP DATABASE "+name) })
	return name
}

// InfluxQL runs a statement through the 1.x /query endpoint and returns the JSON body.
func (in *Influx) InfluxQL(ctx context.Context, q string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/query", strings.NewReader(url.Values{"q": {q}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"error"`) {
		return "", fmt.Errorf("influxql %q: %s: %s", q, resp.Status, b)
	}
	return string(b), nil
}

// Flux runs a Flux query and returns its rows as maps from column name to the
// cell's text, across all result tables.
func (in *Influx) Flux(ctx context.Context, query string) ([]map[string]string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.URL+"/api/v2/query", strings.NewReader(query))
	req.Header.Set("Content-Type", "application/vnd.flux")
	req.Header.Set("Accept", "application/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("flux: %s: %s", resp.Status, b)
	}
	r := csv.NewReader(resp.Body)
	r.FieldsPerRecord = -1
	var header []string
	var rows []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("flux csv: %w", err)
		}
		if len(rec) == 0 || (len(rec) == 1 && rec[0] == "") {
			header = nil // a blank line separates tables
			continue
		}
		if strings.HasPrefix(rec[0], "#") {
			header = nil // annotations start a table (csv.Reader drops the blank line between tables)
			continue
		}
		if header == nil {
			header = rec
			continue
		}
		row := make(map[string]string, len(rec))
		for i, v := range rec {
			if i < len(header) && header[i] != "" {
				row[header[i]] = v
			}
		}
		rows = append(rows, row)
	}
}
