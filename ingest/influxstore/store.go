// Package influxstore writes points to InfluxDB through influxdb-client-go/v2's
// blocking write API: the points of the platform's storage schema, which
// package influxschema owns and encodes (see docs/influxdb-schema.md).
//
// It works with InfluxDB 2.x (org, bucket, token) and with InfluxDB 1.8's v2
// compatibility API (token "user:password" or empty, bucket "database/retention",
// empty org). It never retries by itself: the caller batches, retries and acks,
// guided by how each error is classified (see WriteError).
package influxstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api"
	ihttp "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/cd06/smartdeal/internal/tlsfiles"
)

// Config configures the store.
type Config struct {
	// URL of the InfluxDB server, e.g. http://127.0.0.1:8086. Required.
	URL string `koanf:"url"`
	// Token is an InfluxDB 2.x API token, or "user:password" for 1.8
	// (optional; empty when 1.8 runs without auth).
	Token string `koanf:"token"`
	// Org is the 2.x organization; empty for 1.8.
	Org string `koanf:"org"`
	// Bucket is the 2.x bucket, or "database/retention" for 1.8
	// (defaults to "smartdeal/autogen").
	Bucket string `koanf:"bucket"`
	// CreateDatabase creates the 1.8 database named by Bucket at start
	// (CREATE DATABASE through /query), for local and all-in-one runs.
	CreateDatabase bool `koanf:"create_database"`
	// Gzip compresses write bodies; defaults to false: compressing costs
	// the ingest about 1.4 µs of CPU per message (a new gzip writer per
	// request), while the uncompressed stream is ~100 bytes per point, a few
	// MB/s at full rate — nothing for loopback or a LAN. Turn it on when
	// InfluxDB is across a slow or metered link.
	Gzip bool `koanf:"gzip"`
	// Timeout bounds one HTTP request; defaults to 10s.
	Timeout time.Duration `koanf:"timeout"`
	// CAFile is a PEM bundle to trust for https (optional).
	CAFile string `koanf:"ca_file"`
	// InsecureSkipVerify disables TLS certificate checks (tests only).
	InsecureSkipVerify bool `koanf:"insecure_skip_verify"`
}

// DefaultConfig is the configuration of a local run against InfluxDB 1.8.
func DefaultConfig() Config {
	return Config{
		URL:     "http://127.0.0.1:8086",
		Bucket:  "smartdeal/autogen",
		Timeout: 10 * time.Second,
	}
}

// Validate checks the configuration; errors name the key under prefix
// (normally "influx").
func (c Config) Validate(prefix string) error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s.url: want http(s)://host:port, got %q", prefix, c.URL)
	}
	if c.Bucket == "" {
		return fmt.Errorf("%s.bucket: required (\"database/retention\" for InfluxDB 1.8)", prefix)
	}
	if c.CreateDatabase {
		db, _, _ := strings.Cut(c.Bucket, "/")
		if !validDBName(db) {
			return fmt.Errorf("%s.bucket: database %q cannot be created: want [A-Za-z0-9_-]", prefix, db)
		}
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("%s.timeout: want > 0, got %s", prefix, c.Timeout)
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return fmt.Errorf("%s.ca_file: %w", prefix, err)
		}
	}
	return nil
}

func validDBName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Class says what the caller should do about a failed write.
type Class string

// Error classes.
const (
	// ClassBadData: InfluxDB refused the data itself (400, 413, 422: type
	// conflict, bad line protocol, string too long). Retrying cannot help:
	// find the guilty points and dead-letter them.
	ClassBadData Class = "bad_data"
	// ClassRetryable: the server or the network failed (5xx, 429, timeouts,
	// refused connections). Retry with backoff.
	ClassRetryable Class = "retryable"
	// ClassConfig: the request is refused because of our configuration
	// (401, 403 wrong token, 404 missing database or bucket). Retrying
	// helps only once an operator fixes it: keep retrying, loudly.
	ClassConfig Class = "config"
)

// WriteError is the error of a failed write, with its classification.
type WriteError struct {
	Class  Class
	Status int // HTTP status, 0 for network errors
	Err    error
}

func (e *WriteError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("influxdb write: %s (HTTP %d): %v", e.Class, e.Status, e.Err)
	}
	return fmt.Sprintf("influxdb write: %s: %v", e.Class, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// BadData reports whether the data itself was refused (dead-letter it).
func (e *WriteError) BadData() bool { return e.Class == ClassBadData }

// ConfigProblem reports whether the write failed because of the
// configuration (credentials, database, bucket).
func (e *WriteError) ConfigProblem() bool { return e.Class == ClassConfig }

// Classify turns an error of the InfluxDB client into a *WriteError.
func Classify(err error) *WriteError {
	if err == nil {
		return nil
	}
	var we *WriteError
	if errors.As(err, &we) {
		return we
	}
	var he *ihttp.Error
	status := 0
	if errors.As(err, &he) {
		status = he.StatusCode
	}
	return &WriteError{Class: classOf(status), Status: status, Err: err}
}

func classOf(status int) Class {
	switch {
	case status == http.StatusBadRequest, status == http.StatusRequestEntityTooLarge,
		status == http.StatusUnprocessableEntity:
		return ClassBadData
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound:
		return ClassConfig
	default:
		return ClassRetryable
	}
}

// Store writes line-protocol points to one bucket.
type Store struct {
	cfg    Config
	log    *slog.Logger
	client influxdb2.Client
	write  api.WriteAPIBlocking
	http   *http.Client
}

// New builds a store. It does not contact the server: call Ping, or
// EnsureDatabase when Config.CreateDatabase is set.
func New(cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate("influx"); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConf, err := tlsfiles.Files{CA: cfg.CAFile, InsecureSkipVerify: cfg.InsecureSkipVerify, CAKey: "influx.ca_file"}.Config()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSClientConfig:     tlsConf,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	opts := influxdb2.DefaultOptions().
		SetHTTPClient(hc).
		SetUseGZip(cfg.Gzip).
		SetPrecision(time.Nanosecond).
		SetLogLevel(0).
		SetApplicationName("smartdeal-ingest")
	client := influxdb2.NewClientWithOptions(cfg.URL, cfg.Token, opts)
	return &Store{
		cfg:    cfg,
		log:    log,
		client: client,
		write:  client.WriteAPIBlocking(cfg.Org, cfg.Bucket),
		http:   hc,
	}, nil
}

// Write sends points (newline-separated line protocol, as influxschema.AppendPoints
// builds) in one request. A failure is a *WriteError saying whether to
// retry, dead-letter or fix the configuration.
func (s *Store) Write(ctx context.Context, points []byte) error {
	if len(points) == 0 {
		return nil
	}
	if err := s.write.WriteRecord(ctx, string(points)); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("influxdb write: %w", ctx.Err())
		}
		return Classify(err)
	}
	return nil
}

// Ping checks that the server answers (/ping works on 1.8 and 2.x).
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.client.Ping(ctx)
	if err != nil {
		return fmt.Errorf("influxdb ping: %w", err)
	}
	if !ok {
		return errors.New("influxdb ping: not ready")
	}
	return nil
}

// EnsureDatabase creates the InfluxDB 1.8 database named by the bucket's
// first part (CREATE DATABASE is idempotent). The v2 client cannot do this,
// so it posts to the 1.x /query endpoint.
func (s *Store) EnsureDatabase(ctx context.Context) error {
	db, _, _ := strings.Cut(s.cfg.Bucket, "/")
	if !validDBName(db) {
		return fmt.Errorf("influxdb create database %q: invalid name", db)
	}
	form := url.Values{"q": {"CREATE DATABASE \"" + db + "\""}}
	if user, pass, ok := strings.Cut(s.cfg.Token, ":"); ok {
		form.Set("u", user)
		form.Set("p", pass)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.cfg.URL, "/")+"/query",
		strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("influxdb create database: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("influxdb create database %s: %w", db, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		return fmt.Errorf("influxdb create database %s: %s: %s", db, resp.Status, strings.TrimSpace(string(body)))
	}
	s.log.Info("influxdb database ready", "database", db)
	return nil
}

// Close releases the client's idle connections.
func (s *Store) Close() { s.client.Close() }
