// Package services finds, builds and starts the real third-party services the
// platform runs against on a developer's machine: InfluxDB 1.8.10 (built once
// from the Go module proxy and cached) and Mosquitto (the Debian package). The
// test command and the all-in-one use it; production deployments do not.
package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// InfluxdModule is the InfluxDB server version the project tests against.
const InfluxdModule = "github.com/influxdata/influxdb/cmd/influxd@v1.8.10"

// CacheDir is where built service binaries are kept: $SMARTDEAL_CACHE, or
// $HOME/.cache/smartdeal.
func CacheDir() string {
	if d := os.Getenv("SMARTDEAL_CACHE"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "smartdeal-cache")
	}
	return filepath.Join(home, ".cache", "smartdeal")
}

// EnsureInfluxd returns the path of an influxd binary: $SMARTDEAL_INFLUXD, the
// cache, or PATH; when there is none it builds InfluxDB 1.8.10 with `go install`
// into the cache (about two minutes, once).
func EnsureInfluxd(ctx context.Context, log *slog.Logger) (string, error) {
	if p := os.Getenv("SMARTDEAL_INFLUXD"); p != "" {
		return p, nil
	}
	cached := filepath.Join(CacheDir(), "bin", "influxd")
	if st, err := os.Stat(cached); err == nil && !st.IsDir() {
		return cached, nil
	}
	if p, err := exec.LookPath("influxd"); err == nil {
		return p, nil
	}
	log.Info("building InfluxDB 1.8.10 from the Go module proxy (once, about 2 minutes)", "into", filepath.Dir(cached))
	cmd := exec.CommandContext(ctx, "go", "install", InfluxdModule)
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(cached), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %w", InfluxdModule, err)
	}
	return cached, nil
}

// InfluxdEnv is the environment that configures influxd 1.8 for a local run:
// data under dir, HTTP and RPC on the given loopback ports, the v2 write API
// (always on in 1.8) and Flux enabled, no usage reporting, quiet logs.
func InfluxdEnv(dir string, httpPort, rpcPort int) []string {
	return []string{
		"INFLUXDB_REPORTING_DISABLED=true",
		"INFLUXDB_META_DIR=" + filepath.Join(dir, "meta"),
		"INFLUXDB_DATA_DIR=" + filepath.Join(dir, "data"),
		"INFLUXDB_DATA_WAL_DIR=" + filepath.Join(dir, "wal"),
		"INFLUXDB_HTTP_BIND_ADDRESS=127.0.0.1:" + strconv.Itoa(httpPort),
		"INFLUXDB_BIND_ADDRESS=127.0.0.1:" + strconv.Itoa(rpcPort),
		"INFLUXDB_HTTP_FLUX_ENABLED=true",
		"INFLUXDB_HTTP_LOG_ENABLED=false",
		"INFLUXDB_DATA_QUERY_LOG_ENABLED=false",
		"INFLUXDB_HTTP_MAX_BODY_SIZE=0",
		"INFLUXDB_LOGGING_LEVEL=warn",
	}
}

// Influxd is a running influxd child process.
type Influxd struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartInfluxd starts influxd with its data in dir, on httpPort (0 picks a free
// port), and waits until /health answers.
func StartInfluxd(ctx context.Context, bin, dir string, httpPort int, logPath string) (*Influxd, error) {
	var err error
	if httpPort == 0 {
		if httpPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	rpcPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("influxd data dir: %w", err)
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("influxd log: %w", err)
	}
	cmd := exec.Command(bin, "run")
	cmd.Env = append(os.Environ(), InfluxdEnv(dir, httpPort, rpcPort)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start influxd: %w", err)
	}
	in := &Influxd{URL: "http://127.0.0.1:" + strconv.Itoa(httpPort), cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(in.done) }()
	deadline := time.NewTimer(90 * time.Second)
	defer deadline.Stop()
	for {
		if healthy(ctx, in.URL) {
			return in, nil
		}
		select {
		case <-in.done:
			return nil, fmt.Errorf("influxd exited during start-up, see %s", logPath)
		case <-deadline.C:
			in.Stop()
			return nil, fmt.Errorf("influxd not healthy after 90s, see %s", logPath)
		case <-ctx.Done():
			in.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop terminates influxd and waits for it (it flushes its WAL on SIGTERM).
func (in *Influxd) Stop() {
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		<-in.done
	}
}

// CreateDatabase creates a 1.8 database (the v2 client cannot).
func CreateDatabase(ctx context.Context, influxURL, name string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, influxURL+"/query?q="+"CREATE+DATABASE+%22"+name+"%22", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("create database %s: %s", name, resp.Status)
	}
	return nil
}

func healthy(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Answers reports whether something accepts TCP connections on addr.
func Answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// ErrNoMosquitto means Mosquitto is neither running nor installable here.
var ErrNoMosquitto = errors.New("mosquitto is not installed: install it with `apt-get install mosquitto` (Debian/Ubuntu) or your package manager")

// EnsureMosquitto makes sure a Mosquitto answers on 127.0.0.1:1883: it starts
// the installed binary when it is down, installs the Debian package first when
// running as root with apt-get, and otherwise returns ErrNoMosquitto.
func EnsureMosquitto(ctx context.Context, log *slog.Logger) error {
	const addr = "127.0.0.1:1883"
	if Answers(addr) {
		return nil
	}
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/mosquitto"); statErr == nil {
			bin = "/usr/sbin/mosquitto"
		}
	}
	if bin == "" {
		apt, aptErr := exec.LookPath("apt-get")
		if aptErr != nil || os.Geteuid() != 0 {
			return ErrNoMosquitto
		}
		log.Info("installing mosquitto with apt-get")
		cmd := exec.CommandContext(ctx, apt, "install", "-y", "-q", "mosquitto")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get install mosquitto: %w (%w)", err, ErrNoMosquitto)
		}
		bin = "/usr/sbin/mosquitto"
	}
	args := []string{"-d"}
	if _, err := os.Stat("/etc/mosquitto/mosquitto.conf"); err == nil {
		args = append(args, "-c", "/etc/mosquitto/mosquitto.conf")
	} else {
		args = append(args, "-p", "1883")
	}
	log.Info("starting mosquitto", "bin", bin, "args", args)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("start mosquitto: %w: %s", err, out)
	}
	for range 100 {
		if Answers(addr) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mosquitto started but %s does not answer", addr)
}

// MailpitModule is the SMTP test server the project's mail tests use.
const MailpitModule = "github.com/axllent/mailpit@v1.33.1"

// EnsureMailpit returns the path of a mailpit binary: $SMARTDEAL_MAILPIT, the
// cache, or PATH; when there is none it builds mailpit v1.33.1 with
// `go install` into the cache (about a minute, once).
func EnsureMailpit(ctx context.Context, log *slog.Logger) (string, error) {
	if p := os.Getenv("SMARTDEAL_MAILPIT"); p != "" {
		return p, nil
	}
	cached := filepath.Join(CacheDir(), "bin", "mailpit")
	if st, err := os.Stat(cached); err == nil && !st.IsDir() {
		return cached, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	log.Info("building mailpit v1.33.1 from the Go module proxy (once, about a minute)", "into", filepath.Dir(cached))
	cmd := exec.CommandContext(ctx, "go", "install", MailpitModule)
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Dir(cached), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %w", MailpitModule, err)
	}
	return cached, nil
}

// MailpitArgs are mailpit's arguments for a loopback test server: SMTP and
// HTTP API on the given ports, messages in memory, any credentials accepted
// (also over plain SMTP), no reverse DNS lookups.
func MailpitArgs(smtpPort, httpPort int) []string {
	return []string{
		"--smtp", "127.0.0.1:" + strconv.Itoa(smtpPort),
		"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--smtp-disable-rdns", "--disable-version-check", "--quiet",
	}
}

// Mailpit is a running mailpit child process.
type Mailpit struct {
	SMTPAddr string // 127.0.0.1:port
	URL      string // http://127.0.0.1:port (the HTTP API)
	cmd      *exec.Cmd
	done     chan struct{}
}

// StartMailpit starts mailpit on two free loopback ports and waits until its
// HTTP API answers.
func StartMailpit(ctx context.Context, bin, logPath string) (*Mailpit, error) {
	smtpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("mailpit log: %w", err)
	}
	cmd := exec.Command(bin, MailpitArgs(smtpPort, httpPort)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start mailpit: %w", err)
	}
	mp := &Mailpit{SMTPAddr: "127.0.0.1:" + strconv.Itoa(smtpPort), URL: "http://127.0.0.1:" + strconv.Itoa(httpPort),
		cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(mp.done) }()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if Answers(mp.SMTPAddr) && mailpitUp(ctx, mp.URL) {
			return mp, nil
		}
		select {
		case <-mp.done:
			return nil, fmt.Errorf("mailpit exited during start-up, see %s", logPath)
		case <-deadline.C:
			mp.Stop()
			return nil, fmt.Errorf("mailpit not ready after 30s, see %s", logPath)
		case <-ctx.Done():
			mp.Stop()
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Stop terminates mailpit and waits for it.
func (mp *Mailpit) Stop() {
	_ = mp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-mp.done:
	case <-time.After(10 * time.Second):
		_ = mp.cmd.Process.Kill()
		<-mp.done
	}
}

func mailpitUp(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/info", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
