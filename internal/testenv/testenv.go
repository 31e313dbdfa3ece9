// Package testenv starts the real services the platform's tests talk to —
// Mosquitto and InfluxDB 1.8 — as child processes on free ports, waits until they
// answer, and stops them when the test ends. There is no Docker engine on the
// project's machines, so nothing here uses containers.
//
// Binaries are found through the environment first (SMARTDEAL_MOSQUITTO,
// SMARTDEAL_INFLUXD), then PATH, then the cache that `make test` fills
// ($HOME/.cache/smartdeal/bin). A missing binary fails the test with the
// command that provides it: a skipped test proves nothing.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Eventually polls cond every 20 ms until it returns true or timeout passes,
// then fails the test with msg. It replaces sleeps in tests.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// findBinary looks for a service binary in env, PATH and the test cache.
func findBinary(t testing.TB, envVar, name, hint string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", cacheBin()} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Fatalf("%s not found (set %s, or %s)", name, envVar, hint)
	return ""
}

func cacheBin() string {
	if d := os.Getenv("SMARTDEAL_CACHE"); d != "" {
		return filepath.Join(d, "bin")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "smartdeal", "bin")
}

// process is a child service that can be stopped and started again with the
// same arguments, ports and data directory.
type process struct {
	t       testing.TB
	name    string
	path    string
	args    []string
	env     []string
	logPath string
	ready   func(ctx context.Context) error

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
}

func (p *process) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.path, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		if err := p.ready(ctx); err == nil {
			return nil
		}
		select {
		case <-exited:
			p.cmd = nil
			return fmt.Errorf("%s exited during start-up; log:\n%s", p.name, tail(p.logPath))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after 60s; log:\n%s", p.name, tail(p.logPath))
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// stop sends sig and waits for the process to exit.
func (p *process) stop(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

func (p *process) cleanup() {
	p.stop(syscall.SIGTERM)
	if p.t.Failed() {
		p.t.Logf("%s log tail:\n%s", p.name, tail(p.logPath))
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

func dialReady(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		d := net.Dialer{Timeout: 200 * time.Millisecond}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
}

var errNotReady = errors.New("not ready")

func itoa(i int) string { return strconv.Itoa(i) }
