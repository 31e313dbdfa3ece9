package apid

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/devices/gateway"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestGatewayDeviceStatus runs a real simulated gateway against Mosquitto and
// the API's MQTT feed: the gateway's own device and the sensor it reads both
// turn "online" with a last-seen time. Before the fix only the gateway's own
// device had a status topic, so every sensor and drone stayed "unknown".
func TestGatewayDeviceStatus(t *testing.T) {
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	in := testenv.SharedInflux(t)
	cfg := DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "api.db")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Influx.URL = in.URL
	cfg.Influx.Bucket = in.NewDatabase(t) + "/autogen"
	cfg.MQTT.URL = broker.URL()
	_, app, logs := runApp(t, cfg)
	ctx := t.Context()
	testenv.Eventually(t, 20*time.Second, func() bool { return app.Ready(ctx) == nil }, "app not ready: %s", logs)

	st := app.Store()
	if err := st.CreateSite(ctx, &civic.Site{ID: "vesubie", Name: "Vésubie", Location: civic.Point{Lat: 43.95, Lon: 7.25}}); err != nil {
		t.Fatal(err)
	}
	gc := gateway.SimulatedConfig("vesubie", broker.URL(), t.TempDir(), 1, time.Second)
	gc.Device = "vesubie-gw"
	gc.Sensors[0].Device = "vesubie-weather-1"
	for _, d := range []*civic.Device{
		{ID: gc.Device, SiteID: "vesubie", Kind: civic.DeviceGateway, Model: "Raspberry Pi"},
		{ID: gc.Sensors[0].Device, SiteID: "vesubie", Kind: civic.DeviceSensor, Model: "BME280"},
		{ID: "vesubie-silent", SiteID: "vesubie", Kind: civic.DeviceSensor, Model: "BME280"},
	} {
		if err := st.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	g, err := gateway.New(gc, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	gctx, stop := context.WithCancel(ctx)
	gdone := make(chan error, 1)
	go func() { gdone <- g.Run(gctx) }()
	defer func() { stop(); <-gdone }()

	status := func(id string) string {
		d, err := st.Device(ctx, id)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%s seen=%v", d.Status, d.LastSeen != nil)
	}
	for _, id := range []string{gc.Device, gc.Sensors[0].Device} {
		testenv.Eventually(t, 20*time.Second, func() bool { return status(id) == "online seen=true" },
			"device %s: %s; log:\n%s", id, lazy(func() string { return status(id) }), logs)
	}
	// A registered device nobody publishes for stays unknown.
	if s := status("vesubie-silent"); s != "unknown seen=false" {
		t.Fatalf("silent device: %s", s)
	}
	// The gateway stops cleanly: its retained offline status covers its sensor.
	stop()
	if err := <-gdone; err != nil {
		t.Fatalf("gateway Run: %v", err)
	}
	gdone <- nil
	testenv.Eventually(t, 20*time.Second, func() bool { return status(gc.Sensors[0].Device) == "offline seen=true" },
		"sensor after the gateway stopped: %s", lazy(func() string { return status(gc.Sensors[0].Device) }))
	// The status history (the device page's): online then offline, once
	// each, whatever the telemetry's repeated "online" and the retained
	// messages; none for the silent device.
	for _, id := range []string{gc.Device, gc.Sensors[0].Device} {
		var h []civic.DeviceStatusChange
		testenv.Eventually(t, 20*time.Second, func() bool {
			h, _ = st.DeviceStatusHistory(ctx, id, 0)
			return len(h) > 0 && h[0].Status == "offline"
		}, "device %s history %+v", id, lazy(func() string { return fmt.Sprint(h) }))
		if len(h) != 2 || h[1].Status != "online" || h[0].At.Before(h[1].At) {
			t.Errorf("device %s history %+v, want offline then online, newest first", id, h)
		}
	}
	if h, err := st.DeviceStatusHistory(ctx, "vesubie-silent", 0); err != nil || len(h) != 0 {
		t.Errorf("silent device's history %+v %v", h, err)
	}
}
