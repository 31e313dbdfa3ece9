package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
)

// rawRequest is one request on its own TCP connection, written by hand so
// that a test controls what a client really sends: a declared length
// (contentLength ≥ 0) or chunked encoding (-1), and how much of the body goes
// out (sent; the rest never does). The body is sent while the answer is read,
// as a client does that streams a large upload; the write stops at the first
// error (the server closed the connection). It returns the answer's status
// and body, or an error when none came before the deadline.
type rawRequest struct {
	method, path string
	header       []string // "Name: value" lines
	// contentLength declared, or -1 for chunked; sent is how many body bytes
	// are written (≤ contentLength when declared).
	contentLength, sent int
	deadline            time.Duration
}

var zeros = make([]byte, 64<<10)

func (r rawRequest) do(addr string) (int, []byte, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	var h strings.Builder
	fmt.Fprintf(&h, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.method, r.path, addr)
	for _, l := range r.header {
		h.WriteString(l + "\r\n")
	}
	if r.contentLength >= 0 {
		fmt.Fprintf(&h, "Content-Length: %d\r\n", r.contentLength)
	} else {
		h.WriteString("Transfer-Encoding: chunked\r\n")
	}
	h.WriteString("\r\n")
	if _, err := io.WriteString(conn, h.String()); err != nil {
		return 0, nil, err
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for left := r.sent; left > 0; {
			n := min(left, len(zeros))
			var err error
			if r.contentLength < 0 {
				_, err = fmt.Fprintf(conn, "%x\r\n", n)
				if err == nil {
					_, err = conn.Write(zeros[:n])
				}
				if err == nil {
					_, err = io.WriteString(conn, "\r\n")
				}
			} else {
				_, err = conn.Write(zeros[:n])
			}
			if err != nil {
				return
			}
			left -= n
		}
		if r.contentLength < 0 {
			_, _ = io.WriteString(conn, "0\r\n\r\n")
		}
	}()
	d := r.deadline
	if d == 0 {
		d = 30 * time.Second
	}
	_ = conn.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		<-wrote
		return 0, nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	conn.Close()
	<-wrote
	return resp.StatusCode, b, nil
}

// heapBytes is the memory held by heap objects, live or not yet swept.
func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestBodyMemoryBounded: 24 anonymous clients each sending 32 MiB to the
// sign-in route and 24 to unknown paths (half with a Content-Length, half
// chunked) all get 413, and the API's heap grows by less than 100 MiB while
// they do. Before, every body was read whole (Fiber's BodyLimit was the
// flight-log limit for every route): about 1.5 GB.
func TestBodyMemoryBounded(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{SignInLimit: -1})
	addr := strings.TrimPrefix(serve(t, e), "http://")

	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	const clients, size = 24, 32 << 20
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for i := range 2 * clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rawRequest{method: "POST", path: "/api/v1/auth/signin", header: []string{"Content-Type: application/json"},
				contentLength: size, sent: size}
			if i%2 == 1 {
				r.path = fmt.Sprintf("/nowhere/%d", i)
			}
			if i%4 >= 2 {
				r.contentLength = -1
			}
			status, body, err := r.do(addr)
			key := fmt.Sprintf("%s %d", r.path[:8], status)
			if err != nil {
				key = "error: " + err.Error()
			} else if status == 413 && !bytes.Contains(body, []byte(`"code":"too_large"`)) {
				key = "413 without a problem: " + string(body)
			}
			mu.Lock()
			got[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	growth := int64(peak.Load()) - int64(base)
	t.Logf("heap before %d MiB, peak %d MiB: growth %d MiB; answers %v", base>>20, peak.Load()>>20, growth>>20, got)
	if got["/api/v1/ 413"] != clients || got["/nowhere 413"] != clients {
		t.Errorf("answers %v, want %d×413 for each path", got, clients)
	}
	if growth > 100<<20 {
		t.Errorf("heap grew by %d MiB under the attack, want < 100 MiB", growth>>20)
	}
}

// TestBodyLimits: a declared body over the limit is refused before it is
// sent; compressed bodies are refused (decoding has no bound); a body within
// the limit still works, chunked too.
func TestBodyLimits(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	addr := strings.TrimPrefix(serve(t, e), "http://")
	signIn := []string{"Content-Type: application/json"}
	for _, tc := range []struct {
		name string
		r    rawRequest
		want int
	}{
		// Answered although the rest of the body never comes: nothing waits
		// for it (the server reads at most 8 KiB ahead).
		{"declared 32 MiB, 64 KiB sent", rawRequest{method: "POST", path: "/api/v1/auth/signin", header: signIn, contentLength: 32 << 20, sent: 64 << 10, deadline: 5 * time.Second}, 413},
		{"declared 65 KiB to an unknown path, 16 KiB sent", rawRequest{method: "POST", path: "/rien", contentLength: 65 << 10, sent: 16 << 10, deadline: 5 * time.Second}, 413},
		// Refused before the body is read (an invalid token), with a French
		// page that must not read the rest either.
		{"form post with an invalid token", rawRequest{method: "POST", path: "/connexion", header: []string{"Content-Type: application/x-www-form-urlencoded",
			"Authorization: Bearer nope"}, contentLength: 32 << 20, sent: 64 << 10, deadline: 5 * time.Second}, 401},
		{"chunked past 64 KiB", rawRequest{method: "POST", path: "/api/v1/auth/signin", header: signIn, contentLength: -1, sent: 1 << 20}, 413},
		{"gzip", rawRequest{method: "POST", path: "/api/v1/auth/signin", header: append(signIn, "Content-Encoding: gzip"), contentLength: 100, sent: 100, deadline: 5 * time.Second}, 415},
		{"chunked within the limit", rawRequest{method: "POST", path: "/api/v1/auth/signin", header: signIn, contentLength: -1, sent: 1000}, 400}, // zeros are not JSON
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := tc.r.do(addr)
			if err != nil || status != tc.want {
				t.Fatalf("status %d (%v), want %d: %s", status, err, tc.want, body)
			}
		})
	}
	// A real sign-in, chunked, goes through.
	u := signUp(t, e, "chunked@example.fr", "un mot de passe long")
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/auth/signin", io.MultiReader(strings.NewReader(`{"email":"chunked@example.fr",`), strings.NewReader(`"password":"un mot de passe long"}`)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), u.ID) {
		t.Fatalf("chunked sign-in: %d %s", resp.StatusCode, b)
	}
}

// signUp creates a citizen through the API (a real argon2id hash).
func signUp(t *testing.T, e *env, email, password string) *civic.User {
	t.Helper()
	var u civic.User
	e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "password": password, "name": "Camille"}, 201, &u)
	return &u
}

// TestFlightLogStreamed: the upload's caller is checked before its body is
// read, so an anonymous or a citizen's 32 MiB upload is answered at once
// (401, 403) although only its first 64 KiB were sent (the server reads at
// most 8 KiB ahead); an agent's upload is read
// streamed up to FlightLogLimit (413 past it, declared or chunked) and a real
// .tlog still imports, chunked too.
func TestFlightLogStreamed(t *testing.T) {
	b := sqltest.SQLite(t)
	e := newEnv(t, b, nil, api.Config{})
	srv, err := api.New(api.Config{Password: api.PasswordParams{MemoryKiB: 1024, Time: 1}, FlightLogLimit: 1 << 20},
		api.Deps{Store: b.Store, Measurements: offlineMeasurements(t), Publisher: e.pub, Logger: slog.New(slog.DiscardHandler), FlightLogs: tlogImporter{}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.app = srv, srv.App()
	agentID, agent := e.field()
	_, citizen := e.user(civic.RoleCitizen)
	m := mission(agentID, square(7.2, 43.65))
	m["id"] = "vol-2"
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)
	e.call("POST", "/api/v1/missions/vol-2/status", agent, map[string]any{"status": "active"}, 200, nil)
	addr := strings.TrimPrefix(serve(t, e), "http://")
	path := "/api/v1/missions/vol-2/flightlog"
	octet := "Content-Type: application/octet-stream"

	for _, tc := range []struct {
		name string
		r    rawRequest
		want int
	}{
		{"anonymous", rawRequest{method: "POST", path: path, header: []string{octet}, contentLength: 32 << 20, sent: 64 << 10, deadline: 5 * time.Second}, 401},
		{"citizen", rawRequest{method: "POST", path: path, header: []string{octet, "Authorization: Bearer " + citizen}, contentLength: 32 << 20, sent: 64 << 10, deadline: 5 * time.Second}, 403},
		{"anonymous form", rawRequest{method: "POST", path: path, header: []string{"Content-Type: application/x-www-form-urlencoded", "Accept: text/html"}, contentLength: 32 << 20, sent: 64 << 10, deadline: 5 * time.Second}, 401},
		{"agent, declared over the limit", rawRequest{method: "POST", path: path, header: []string{octet, "Authorization: Bearer " + agent}, contentLength: 2 << 20, sent: 64 << 10, deadline: 5 * time.Second}, 413},
		{"agent, chunked over the limit", rawRequest{method: "POST", path: path, header: []string{octet, "Authorization: Bearer " + agent}, contentLength: -1, sent: 2 << 20}, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, err := tc.r.do(addr)
			if err != nil || status != tc.want {
				t.Fatalf("status %d (%v), want %d: %s", status, err, tc.want, body)
			}
		})
	}

	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 1, GPSNoise: -1}, time.Now().Add(-time.Hour).UTC())
	if err != nil {
		t.Fatal(err)
	}
	var tlog bytes.Buffer
	if _, err := dronesim.WriteTlog(&tlog, sim, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, chunked := range []bool{false, true} {
		var body io.Reader = bytes.NewReader(tlog.Bytes())
		if chunked {
			body = io.MultiReader(body) // no length known: the client sends it chunked
		}
		req, _ := http.NewRequest("POST", "http://"+addr+path, body)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Authorization", "Bearer "+agent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 202 || !strings.Contains(string(rb), `"readings":`) {
			t.Fatalf("upload (chunked %v, %d bytes): %d %s", chunked, tlog.Len(), resp.StatusCode, rb)
		}
	}
}
