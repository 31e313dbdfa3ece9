package main

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/mqtttest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// TestEmbeddedBrokerACL: the all-in-one's embedded broker takes its device
// accounts from the registry (SQLite and PostgreSQL): a provisioned device
// publishes on its own topic; another device's credentials on that topic, a
// wrong password, anonymous clients and topic-like user names are refused; a
// gateway publishes for its site only; a device provisioned after the start
// connects at once; a revoked one is refused after the reload.
func TestEmbeddedBrokerACL(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			st := b.Store
			reg := &actions.Registry{Store: st}
			for _, s := range []string{"roya", "tinee"} {
				if err := reg.CreateSite(ctx, "admin", &civic.Site{ID: s, Name: s, Location: civic.Point{Lat: 44, Lon: 7.5}}); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range []*civic.Device{
				{ID: "roya-air", SiteID: "roya", Kind: civic.DeviceSensor},
				{ID: "roya-eau", SiteID: "roya", Kind: civic.DeviceSensor},
				{ID: "roya-gw", SiteID: "roya", Kind: civic.DeviceGateway},
				{ID: "ingest", SiteID: "roya", Kind: civic.DeviceSensor}, // named like a service
			} {
				if err := reg.CreateDevice(ctx, "admin", d); err != nil {
					t.Fatal(err)
				}
			}
			air, err := reg.Provision(ctx, "admin", "roya-air")
			if err != nil {
				t.Fatal(err)
			}
			eau, err := reg.Provision(ctx, "admin", "roya-eau")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Provision(ctx, "admin", "ingest"); civic.ErrorCode(err) != civic.ECONFLICT {
				t.Fatalf("a device named like a service account provisioned: %v", err)
			}

			auth := newRegistryAuth(smartdeal.Topics{}, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
			apiPW := auth.serviceAccount(brokeracl.API, brokeracl.ServiceRules(smartdeal.Topics{}, brokeracl.API))
			ingestPW := auth.serviceAccount(brokeracl.Ingest, brokeracl.ServiceRules(smartdeal.Topics{}, brokeracl.Ingest))
			addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
			srv, err := startBroker(addr, slog.New(slog.DiscardHandler), auth)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			url := "tcp://" + addr
			// Before the store is there, only the services connect.
			if _, err := mqtttest.Connect(t, url, "roya-air", air.Password); err == nil {
				t.Fatal("a device connected before the registry was read")
			}
			auth.useStore(ctx, st)

			mqtttest.CheckDeviceACL(t, mqtttest.DeviceACLCase{URL: url, Topic: "smartdeal/v1/roya/roya-air/telemetry",
				Device: mqtttest.Account{User: "roya-air", Password: air.Password}, Other: mqtttest.Account{User: "roya-eau", Password: eau.Password},
				Watcher: mqtttest.Account{User: brokeracl.API, Password: apiPW}})
			// The ingest reads through its shared group; a device reads
			// only its own commands.
			ing, err := mqtttest.Connect(t, url, brokeracl.Ingest, ingestPW)
			if err != nil {
				t.Fatal(err)
			}
			if tok := ing.Subscribe("$share/ingest/smartdeal/v1/+/+/telemetry", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("ingest subscription: %v", tok.Error())
			}
			for topic, want := range map[string]bool{
				"smartdeal/v1/roya/roya-air/cmd": true, "smartdeal/v1/roya/+/cmd": false, "smartdeal/v1/#": false, "#": false,
				"smartdeal/v1/roya/roya-eau/cmd": false,
			} {
				if got := auth.OnACLCheck(clientOf("roya-air"), topic, false); got != want {
					t.Errorf("roya-air reading %s: %v, want %v", topic, got, want)
				}
			}

			// A gateway provisioned now connects at once, and publishes for
			// its own site's devices only.
			gw, err := reg.Provision(ctx, "admin", "roya-gw")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := mqtttest.Connect(t, url, "roya-gw", gw.Password); err != nil {
				t.Fatalf("gateway just provisioned: %v", err)
			}
			for topic, want := range map[string]bool{
				"smartdeal/v1/roya/roya-eau/telemetry": true, "smartdeal/v1/roya/roya-gw/status": true,
				"smartdeal/v1/tinee/x/telemetry": false, "smartdeal/v1/roya/+/telemetry": false, "smartdeal/v1/roya/a/#": false,
				"smartdeal/v1/roya/roya-air/cmd/x": false,
			} {
				if got := auth.OnACLCheck(clientOf("roya-gw"), topic, true); got != want {
					t.Errorf("roya-gw writing %s: %v, want %v", topic, got, want)
				}
			}

			// Revocation: refused after the next reload.
			if err := reg.Revoke(ctx, "admin", "roya-air"); err != nil {
				t.Fatal(err)
			}
			auth.reload(ctx)
			if _, err := mqtttest.Connect(t, url, "roya-air", air.Password); err == nil {
				t.Fatal("revoked credentials accepted")
			}
			if auth.OnACLCheck(clientOf("roya-air"), "smartdeal/v1/roya/roya-air/telemetry", true) {
				t.Fatal("a revoked device still publishes")
			}
		})
	}
}

// clientOf is a connected client of the embedded broker, as the ACL hook sees it.
func clientOf(user string) *mochi.Client {
	cl := &mochi.Client{}
	cl.Properties.Username = []byte(user)
	return cl
}
