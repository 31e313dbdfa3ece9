package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cd06/smartdeal/internal/services"
)

// Mailpit is a real SMTP server (mailpit) whose HTTP API lists what it
// received. Tests that share one must address their mail to recipients of
// their own (the helpers filter by recipient).
type Mailpit struct {
	SMTPHost string // 127.0.0.1
	SMTPPort int
	URL      string // HTTP API base, http://127.0.0.1:port
	proc     *process
}

// StartMailpit starts a dedicated mailpit on free ports; extra arguments are
// appended (e.g. --smtp-tls-cert, --smtp-require-starttls, --smtp-auth-file).
func StartMailpit(t testing.TB, extra ...string) *Mailpit {
	t.Helper()
	bin := findBinary(t, "SMARTDEAL_MAILPIT", "mailpit", "run `make test`, which builds mailpit v1.33.1 once into ~/.cache/smartdeal/bin")
	smtpPort, httpPort := FreePort(t), FreePort(t)
	mp := &Mailpit{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, URL: "http://127.0.0.1:" + itoa(httpPort)}
	args := services.MailpitArgs(smtpPort, httpPort)
	// mailpit refuses --smtp-auth-accept-any with an auth file, and
	// --smtp-auth-allow-insecure with required TLS.
	for _, a := range extra {
		switch {
		case strings.HasPrefix(a, "--smtp-auth-file"):
			args = without(args, "--smtp-auth-accept-any")
		case strings.HasPrefix(a, "--smtp-require-"):
			args = without(args, "--smtp-auth-allow-insecure")
		}
	}
	mp.proc = &process{
		t: t, name: "mailpit", path: bin, args: append(args, extra...),
		logPath: filepath.Join(t.TempDir(), "mailpit.log"),
		ready: func(ctx context.Context) error {
			if err := dialReady(net.JoinHostPort(mp.SMTPHost, itoa(smtpPort)))(ctx); err != nil {
				return err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, mp.URL+"/api/v1/info", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return errNotReady
			}
			return nil
		},
	}
	if err := mp.proc.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mp.proc.cleanup)
	return mp
}

func without(args []string, drop string) []string {
	out := args[:0:0]
	for _, a := range args {
		if a != drop {
			out = append(out, a)
		}
	}
	return out
}

// SharedMailpit returns the mailpit that `make test` started
// (SMARTDEAL_TEST_SMTP_ADDR, SMARTDEAL_TEST_MAILPIT_URL), or starts one.
func SharedMailpit(t testing.TB) *Mailpit {
	t.Helper()
	addr, api := os.Getenv("SMARTDEAL_TEST_SMTP_ADDR"), os.Getenv("SMARTDEAL_TEST_MAILPIT_URL")
	if addr == "" || api == "" {
		return StartMailpit(t)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("SMARTDEAL_TEST_SMTP_ADDR %q: %v", addr, err)
	}
	p, _ := strconv.Atoi(port)
	return &Mailpit{SMTPHost: host, SMTPPort: p, URL: strings.TrimSuffix(api, "/")}
}

// Stop stops a dedicated mailpit (an SMTP outage); Start brings it back on
// the same ports.
func (mp *Mailpit) Stop(t testing.TB) {
	t.Helper()
	if mp.proc == nil {
		t.Fatal("testenv: Stop on a shared mailpit")
	}
	mp.proc.stop(syscall.SIGTERM)
}

// Start restarts a stopped dedicated mailpit.
func (mp *Mailpit) Start(t testing.TB) {
	t.Helper()
	if mp.proc == nil {
		t.Fatal("testenv: Start on a shared mailpit")
	}
	if err := mp.proc.start(); err != nil {
		t.Fatal(err)
	}
}

// Mail is one received message as mailpit's API gives it.
type Mail struct {
	ID      string
	Subject string
	To      []string
	Text    string
	Headers map[string][]string
}

type mailpitAddr struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Messages returns every message addressed to `to`, newest first, with text
// and headers.
func (mp *Mailpit) Messages(t testing.TB, to string) []Mail {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string        `json:"ID"`
			Subject string        `json:"Subject"`
			To      []mailpitAddr `json:"To"`
		} `json:"messages"`
	}
	mp.get(t, "/api/v1/search?limit=200&query="+url.QueryEscape(`to:"`+to+`"`), &list)
	var out []Mail
	for _, m := range list.Messages {
		var rcpt []string
		match := false
		for _, a := range m.To {
			rcpt = append(rcpt, a.Address)
			match = match || strings.EqualFold(a.Address, to)
		}
		if !match {
			continue // the search is by substring
		}
		var full struct {
			Text string `json:"Text"`
		}
		mp.get(t, "/api/v1/message/"+m.ID, &full)
		var headers map[string][]string
		mp.get(t, "/api/v1/message/"+m.ID+"/headers", &headers)
		out = append(out, Mail{ID: m.ID, Subject: m.Subject, To: rcpt, Text: full.Text, Headers: headers})
	}
	return out
}

// WaitMail waits up to timeout for a message to `to` whose subject contains
// subject, and returns the newest such.
func (mp *Mailpit) WaitMail(t testing.TB, to, subject string, timeout time.Duration) Mail {
	t.Helper()
	var got Mail
	Eventually(t, timeout, func() bool {
		for _, m := range mp.Messages(t, to) {
			if strings.Contains(m.Subject, subject) {
				got = m
				return true
			}
		}
		return false
	}, "no mail to %s with subject containing %q in %s", to, subject, mp.URL)
	return got
}

func (mp *Mailpit) get(t testing.TB, path string, into any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, mp.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("mailpit %s: %v", path, fmt.Errorf("decode: %w", err))
	}
}
