package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
	"github.com/cd06/smartdeal/senml"
)

// tlogImporter is cmd/internal/apid's adapter (which this package may not import).
type tlogImporter struct{}

func (tlogImporter) ImportFlightLog(ctx context.Context, r io.Reader, site, mission string) (api.FlightLogImport, error) {
	rs, st, err := tlog.Import(ctx, r, tlog.Options{Site: site, Mission: mission})
	imp := api.FlightLogImport{Readings: rs, Stats: st, Start: st.Start, End: st.End}
	var te *tlog.Error
	if errors.As(err, &te) && errors.Is(err, tlog.ErrTruncated) {
		imp.Truncated = &api.FlightLogTruncation{Offset: te.Offset, Message: te.Err.Error()}
		err = nil
	}
	return imp, err
}

// flightEnv is an API with the tlog importer, an agent and its active
// mission "vol-1" (started now).
func flightEnv(t *testing.T) (e *env, agent string, noImporter func()) {
	b := sqltest.SQLite(t)
	e = newEnv(t, b, nil, api.Config{})
	// Rebuild the server with an importer (newEnv builds one without).
	srv, err := api.New(api.Config{Password: api.PasswordParams{MemoryKiB: 1024, Time: 1}},
		api.Deps{Store: b.Store, Measurements: offlineMeasurements(t), Publisher: e.pub, Logger: slog.New(slog.DiscardHandler), FlightLogs: tlogImporter{}})
	if err != nil {
		t.Fatal(err)
	}
	old := e.app
	e.srv, e.app = srv, srv.App()
	agentID, agent := e.field()
	e.call("POST", "/api/v1/missions", e.admin, func() map[string]any {
		m := mission(agentID, square(7.2, 43.65))
		m["id"] = "vol-1"
		return m
	}(), 201, nil)
	return e, agent, func() { e.app = old }
}

// simLog is a simulated flight of d starting at from, as a .tlog.
func simLog(t *testing.T, from time.Time, d time.Duration) []byte {
	t.Helper()
	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 1, GPSNoise: -1}, from.UTC())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := dronesim.WriteTlog(&buf, sim, d); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// uploadLog posts a log to vol-1 and returns the status and the decoded answer.
func uploadLog(e *env, tok string, body []byte) (int, map[string]any) {
	e.t.Helper()
	resp, rb := e.send(e.request("POST", "/api/v1/missions/vol-1/flightlog", tok, body, "Content-Type", "application/octet-stream"))
	var m map[string]any
	if err := json.Unmarshal(rb, &m); err != nil {
		e.t.Fatalf("answer %d: %v: %s", resp.StatusCode, err, rb)
	}
	return resp.StatusCode, m
}

// TestFlightLogUpload imports a simulated .tlog into a mission: its readings
// are published as SenML packs on the drone's telemetry topic, attributed to
// the mission's drone and tagged with the mission.
func TestFlightLogUpload(t *testing.T) {
	e, agent, noImporter := flightEnv(t)
	buf := bytes.NewBuffer(simLog(t, time.Now().Add(-30*time.Second), time.Minute)) // within the window of a mission started now
	upload := func(tok string, body []byte, ct string) *web.Problem {
		req := e.request("POST", "/api/v1/missions/vol-1/flightlog", tok, body, "Content-Type", ct)
		resp, rb := e.send(req)
		if resp.StatusCode != 202 {
			p := checkProblem(t, "upload", resp, rb, resp.StatusCode)
			return &web.Problem{Status: resp.StatusCode, Code: p["code"].(string)}
		}
		return nil
	}
	if p := upload(agent, buf.Bytes(), "application/octet-stream"); p == nil || p.Status != 409 {
		t.Fatalf("upload to a planned mission: %+v", p)
	}
	e.call("POST", "/api/v1/missions/vol-1/status", agent, map[string]any{"status": "active"}, 200, nil)
	if p := upload(agent, []byte("not a tlog at all"), "application/octet-stream"); p == nil || p.Status != 400 {
		t.Fatalf("garbage upload: %+v", p)
	}
	if p := upload(agent, buf.Bytes(), "application/json"); p == nil || p.Status != 415 {
		t.Fatalf("wrong media type: %+v", p)
	}
	before := len(e.pub.all())
	if p := upload(agent, buf.Bytes(), "application/octet-stream"); p != nil {
		t.Fatalf("upload: %+v", p)
	}
	msgs := e.pub.all()[before:]
	if len(msgs) == 0 {
		t.Fatal("nothing published")
	}
	n := 0
	for _, m := range msgs {
		if m.Topic != "smartdeal/v1/var-estuaire/drone-1/telemetry" || m.Retained {
			t.Fatalf("published to %s retained=%v", m.Topic, m.Retained)
		}
		rs, err := senml.Readings("var-estuaire", "drone-1", m.Payload, time.Now(), nil)
		if err != nil {
			t.Fatalf("pack: %v", err)
		}
		for _, r := range rs {
			if r.Mission != "vol-1" {
				t.Fatalf("reading without the mission: %+v", r)
			}
		}
		n += len(rs)
	}
	if n < 100 {
		t.Fatalf("only %d readings from a one-minute flight", n)
	}
	// Without an importer the route says so.
	noImporter()
	if p := upload(agent, buf.Bytes(), "application/octet-stream"); p == nil || p.Status != 503 || p.Code != civic.EUNAVAILABLE {
		t.Fatalf("no importer: %+v", p)
	}
}

// TestFlightLogOutsideWindow (issue 13, defect 3): a log recorded before the
// mission's flight window (planned an hour ago, started now) is refused,
// saying both spans; a log that overlaps the window is imported within it,
// and the answer counts what was left out.
func TestFlightLogOutsideWindow(t *testing.T) {
	e, agent, _ := flightEnv(t)
	e.call("POST", "/api/v1/missions/vol-1/status", agent, map[string]any{"status": "active"}, 200, nil)
	status, p := uploadLog(e, agent, simLog(t, time.Now().Add(-2*time.Hour), time.Minute)) // the mission was planned from an hour ago
	if status != 400 || p["code"] != "invalid" || p["reason"] != "outside_window" || p["log_start"] == nil || p["window_start"] == nil {
		t.Fatalf("a log an hour before the mission: %d %v", status, p)
	}
	before := len(e.pub.all())
	status, r := uploadLog(e, agent, simLog(t, time.Now().Add(-time.Hour-3*time.Minute), 4*time.Minute))
	if status != 202 {
		t.Fatalf("overlapping log: %d %v", status, r)
	}
	win := r["window"].(map[string]any)
	start, _ := time.Parse(time.RFC3339Nano, win["start"].(string))
	if r["outside_window"].(float64) < 100 || r["readings"].(float64) < 100 {
		t.Fatalf("answer %v: want readings both inside and outside the window", r)
	}
	for _, m := range e.pub.all()[before:] {
		rs, err := senml.Readings("var-estuaire", "drone-1", m.Payload, time.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range rs {
			if x.Time.Before(start) {
				t.Fatalf("a reading before the window (%v) was published: %+v", start, x)
			}
		}
	}
}

// TestFlightLogTruncated (defects 5 and 6): a cut log is imported up to the
// cut, with 202 and the cut's offset; stats.readings is what was read and
// stats.systems a list of numbers.
func TestFlightLogTruncated(t *testing.T) {
	e, agent, _ := flightEnv(t)
	e.call("POST", "/api/v1/missions/vol-1/status", agent, map[string]any{"status": "active"}, 200, nil)
	data := simLog(t, time.Now().Add(-30*time.Second), time.Minute)
	// cut inside the entry that holds the middle of the log (a cut on an
	// entry's boundary cannot be told from the end of a log)
	at, n := entryAt(data, len(data)/2)
	cut := at + n/2
	status, r := uploadLog(e, agent, data[:cut])
	if status != 202 {
		t.Fatalf("cut log: %d %v", status, r)
	}
	tr, _ := r["truncated"].(map[string]any)
	if off, _ := tr["offset"].(float64); tr == nil || off <= 0 || off > float64(cut) || tr["message"] == "" {
		t.Fatalf("truncated %v (cut at %d)", r["truncated"], cut)
	}
	st := r["stats"].(map[string]any)
	if st["readings"].(float64) != r["readings"].(float64) || r["readings"].(float64) < 100 {
		t.Fatalf("stats.readings %v, readings %v", st["readings"], r["readings"])
	}
	if sys, ok := st["systems"].([]any); !ok || len(sys) != 1 || sys[0] != 1.0 {
		t.Fatalf("stats.systems %#v, want [1]", st["systems"])
	}
	// a file cut before its first frame: nothing to import, refused, saying why
	status, p := uploadLog(e, agent, data[:13])
	if status != 400 || p["reason"] != "not_a_flight_log" || p["detail"] == nil && p["title"] == nil {
		t.Fatalf("13 bytes: %d %v", status, p)
	}
}

// entryAt is the offset and length of the tlog entry that holds byte off of
// data (each entry of the simulator's log: 8 bytes of time, an unsigned
// MAVLink 2 frame of 12 bytes + its payload length at byte 9).
func entryAt(data []byte, off int) (at, n int) {
	for at < len(data) {
		n = 8 + 12 + int(data[at+9])
		if off < at+n {
			return at, n
		}
		at += n
	}
	return at, 0
}
