package api_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/dashboards/web"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
	"github.com/cd06/smartdeal/senml"
)

type tlogImporter struct{}

func (tlogImporter) ImportFlightLog(ctx context.Context, r io.Reader, site, mission string) ([]smartdeal.Reading, any, error) {
	return tlog.Import(ctx, r, tlog.Options{Site: site, Mission: mission})
}

// TestFlightLogUpload imports a simulated .tlog into a mission: its readings
// are published as SenML packs on the drone's telemetry topic, attributed to
// the mission's drone and tagged with the mission.
func TestFlightLogUpload(t *testing.T) {
	b := sqltest.SQLite(t)
	e := newEnv(t, b, nil, api.Config{})
	// Rebuild the server with an importer (newEnv builds one without).
	srv, err := api.New(api.Config{Password: api.PasswordParams{MemoryKiB: 1024, Time: 1}},
		api.Deps{Store: b.Store, Measurements: offlineMeasurements(t), Publisher: e.pub, Logger: slog.New(slog.DiscardHandler), FlightLogs: tlogImporter{}})
	if err != nil {
		t.Fatal(err)
	}
	noImporter := e.app
	e.srv, e.app = srv, srv.App()
	agentID, agent := e.field()
	e.call("POST", "/api/v1/missions", e.admin, func() map[string]any {
		m := mission(agentID, square(7.2, 43.65))
		m["id"] = "vol-1"
		return m
	}(), 201, nil)

	sim, err := dronesim.NewSim(dronesim.Config{SystemID: 1, GPSNoise: -1}, time.Now().Add(-time.Hour).UTC())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := dronesim.WriteTlog(&buf, sim, time.Minute); err != nil {
		t.Fatal(err)
	}
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
	e.app = noImporter
	if p := upload(agent, buf.Bytes(), "application/octet-stream"); p == nil || p.Status != 503 || p.Code != civic.EUNAVAILABLE {
		t.Fatalf("no importer: %+v", p)
	}
}
