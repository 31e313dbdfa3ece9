package testenv

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestInfluxStartStopWriteQuery(t *testing.T) {
	in := StartInflux(t)
	db := in.NewDatabase(t)
	resp, err := http.Post(in.URL+"/api/v2/write?bucket="+db+"/autogen&precision=s", "text/plain",
		strings.NewReader("telemetry,site=a,device=b,quantity=q value=1.5 1700000000\n"))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %v %v", err, resp)
	}
	resp.Body.Close()
	in.Stop(t)
	in.Start(t)
	rows, err := in.Flux(context.Background(), `from(bucket:"`+db+`/autogen") |> range(start: 2023-01-01T00:00:00Z)`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["_value"] != "1.5" || rows[0]["device"] != "b" {
		t.Fatalf("rows after restart = %v", rows)
	}
}

func TestMosquittoRestart(t *testing.T) {
	m := StartMosquitto(t, MosquittoOptions{})
	m.Stop()
	if dialReady(m.Addr)(context.Background()) == nil {
		t.Fatal("broker still answers after Stop")
	}
	m.Start(t)
	if err := dialReady(m.Addr)(context.Background()); err != nil {
		t.Fatalf("broker not back: %v", err)
	}
}
