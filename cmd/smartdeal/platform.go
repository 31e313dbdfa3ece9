package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/cmd/internal/alertsd"
	"github.com/cd06/smartdeal/cmd/internal/apid"
	"github.com/cd06/smartdeal/cmd/internal/boot"
	"github.com/cd06/smartdeal/cmd/internal/bridged"
	"github.com/cd06/smartdeal/cmd/internal/ingestd"
	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
	"github.com/cd06/smartdeal/dashboards/mail"
	"github.com/cd06/smartdeal/devices"
	"github.com/cd06/smartdeal/devices/drivers"
	"github.com/cd06/smartdeal/devices/gateway"
	"github.com/cd06/smartdeal/devices/replay"
	"github.com/cd06/smartdeal/firmware-bridge/dronesim"
	"github.com/cd06/smartdeal/internal/services"
)

type config struct {
	// DataDir holds InfluxDB's data and the gateways' spools; defaults to .run.
	DataDir string    `koanf:"data_dir"`
	Broker  brokerCfg `koanf:"broker"`
	Influx  influxCfg `koanf:"influx"`
	HTTP    httpCfg   `koanf:"http"`
	API     apiCfg    `koanf:"api"`
	Sim     simCfg    `koanf:"sim"`
	// Mail is an SMTP relay for the API's mail; without mail.host (the
	// default) mail is written to the log.
	Mail mail.Config `koanf:"mail"`
	// Map is the maps' raster tile server (map.tile_url…; default none:
	// the embedded base map).
	Map apid.MapConfig `koanf:"map"`
	// Alerts tunes the alert evaluator (docs/alerts.md); it shares the
	// API's database and the embedded broker.
	Alerts alerting.Config `koanf:"alerts"`
	Log    boot.Log        `koanf:"log"`
}

type brokerCfg struct {
	// Listen is the embedded broker's address; defaults to 127.0.0.1:1883.
	Listen string `koanf:"listen"`
}

type influxCfg struct {
	// URL of an InfluxDB to use instead of starting one (empty: start 1.8.10).
	URL string `koanf:"url"`
	// Port for the InfluxDB the all-in-one starts; defaults to 8086.
	Port int `koanf:"port"`
	// Bucket ("database/retention" on 1.8); defaults to smartdeal/autogen.
	Bucket string `koanf:"bucket"`
}

type httpCfg struct {
	// Ops is where /healthz, /readyz and /metrics of the all-in-one answer.
	Ops string `koanf:"ops"`
}

type apiCfg struct {
	// Addr of the civic API and its pages; defaults to 127.0.0.1:8080.
	Addr string `koanf:"addr"`
	// DB is a SQLite path or a postgres:// URL; defaults to <data_dir>/smartdeal.db.
	DB string `koanf:"db"`
	// AdminEmail is the first administrator's account, created on a fresh database.
	AdminEmail string `koanf:"admin_email"`
	// AdminPassword for that account; empty generates one and logs it once.
	AdminPassword string `koanf:"admin_password"`
	// Demo seeds a fresh database (no site yet) with the simulated sites and
	// devices, citizen proposals linked to their series and a drone mission
	// (demo.go); defaults to true. Set false to start on an empty registry.
	Demo bool `koanf:"demo"`
}

type simCfg struct {
	// Sites are the simulated gateways' site ids.
	Sites []string `koanf:"sites"`
	// Sensors per simulated site; defaults to 4 (weather, air, river, rain).
	Sensors int `koanf:"sensors"`
	// Interval between reads of each simulated sensor; defaults to 5s.
	Interval time.Duration `koanf:"interval"`
	// Replay real AtmoSud measurements at this many recorded seconds per second (0: off).
	ReplaySpeedup float64 `koanf:"replay_speedup"`
	// Drones flying survey missions over MAVLink to an embedded bridge at the first site (0: none).
	Drones int `koanf:"drones"`
}

func defaultConfig() config {
	return config{
		DataDir: ".run",
		Broker:  brokerCfg{Listen: "127.0.0.1:1883"},
		Influx:  influxCfg{Port: 8086, Bucket: "smartdeal/autogen"},
		HTTP:    httpCfg{Ops: "127.0.0.1:9180"},
		API:     apiCfg{Addr: "127.0.0.1:8080", AdminEmail: "admin@smartdeal.localhost", Demo: true},
		Sim: simCfg{
			Sites:         []string{"nice-port", "cannes-croisette", "breil-sur-roya"},
			Sensors:       4,
			Interval:      5 * time.Second,
			ReplaySpeedup: 60,
			Drones:        2,
		},
		Alerts: alerting.DefaultConfig(),
		Log:    boot.DefaultLog(),
	}
}

func (c *config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required"))
	}
	if _, _, err := net.SplitHostPort(c.Broker.Listen); err != nil {
		errs = append(errs, fmt.Errorf("broker.listen: %q: want host:port", c.Broker.Listen))
	}
	if c.Influx.URL == "" && (c.Influx.Port < 0 || c.Influx.Port > 65535) {
		errs = append(errs, fmt.Errorf("influx.port: %d: want 0…65535", c.Influx.Port))
	}
	for i, s := range c.Sim.Sites {
		if err := smartdeal.CheckID("site", s); err != nil {
			errs = append(errs, fmt.Errorf("sim.sites[%d]: %w", i, err))
		} else if len(s) > maxSimSite {
			errs = append(errs, fmt.Errorf("sim.sites[%d]: %q: at most %d characters (the site prefixes its device ids)", i, s, maxSimSite))
		}
	}
	if c.Sim.Sensors < 0 || c.Sim.Sensors > 1000 {
		errs = append(errs, fmt.Errorf("sim.sensors: %d: want 0…1000", c.Sim.Sensors))
	}
	if c.Sim.Interval < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("sim.interval: %s: want at least 100ms", c.Sim.Interval))
	}
	if c.Sim.Drones < 0 || c.Sim.Drones > 50 {
		errs = append(errs, fmt.Errorf("sim.drones: %d: want 0…50", c.Sim.Drones))
	}
	if c.Sim.Drones > 0 && len(c.Sim.Sites) == 0 {
		errs = append(errs, errors.New("sim.drones: needs at least one site in sim.sites"))
	}
	if c.Sim.ReplaySpeedup < 0 {
		errs = append(errs, fmt.Errorf("sim.replay_speedup: %g: want ≥ 0", c.Sim.ReplaySpeedup))
	}
	if err := c.Alerts.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(append(errs, c.Log.Validate("log"))...)
}

// platform is the running all-in-one.
type platform struct {
	cfg config
	log *slog.Logger
	reg *prometheus.Registry

	brokerURL string
	influxURL string
	apiURL    string

	// auth is the embedded broker's account and ACL hook (brokerauth.go).
	auth *registryAuth
}

// part is one long-running component.
type part struct {
	name string
	run  func(context.Context) error
}

func (p *platform) run(ctx context.Context) error {
	p.reg = prometheus.NewRegistry()
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := os.MkdirAll(p.cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	// 1. Broker.
	listen := p.cfg.Broker.Listen
	if services.Answers(listen) {
		port, err := services.FreePort()
		if err != nil {
			return err
		}
		host, _, _ := net.SplitHostPort(listen)
		p.log.Warn("something already listens on the broker address (a Mosquitto?); the embedded broker takes another port",
			"busy", listen, "port", port)
		listen = net.JoinHostPort(host, strconv.Itoa(port))
	}
	p.auth = newRegistryAuth(smartdeal.Topics{}, p.log.With("component", "broker"))
	broker, err := startBroker(listen, p.log, p.auth)
	if err != nil {
		return err
	}
	defer broker.Close()
	p.brokerURL = "tcp://" + listen

	// 2. InfluxDB.
	p.influxURL = p.cfg.Influx.URL
	if p.influxURL == "" {
		in, err := p.startInflux(ctx)
		if err != nil {
			return err
		}
		defer in.Stop()
		p.influxURL = in.URL
	}

	// 3. Ingest, gateways, ops server.
	parts, err := p.parts(ctx)
	if err != nil {
		return err
	}
	p.log.Info("SMART Deal platform running",
		"api", p.apiURL+"/api/v1", "pages", p.apiURL+"/idees", "mqtt", p.brokerURL, "influxdb", p.influxURL, "bucket", p.cfg.Influx.Bucket,
		"ops", "http://"+p.cfg.HTTP.Ops+"/metrics", "sites", p.cfg.Sim.Sites)
	return runParts(ctx, p.log, parts)
}

func (p *platform) startInflux(ctx context.Context) (*services.Influxd, error) {
	bin, err := services.EnsureInfluxd(ctx, p.log)
	if err != nil {
		return nil, err
	}
	port := p.cfg.Influx.Port
	if port != 0 && services.Answers("127.0.0.1:"+strconv.Itoa(port)) {
		p.log.Warn("port taken; InfluxDB takes a free one", "port", port)
		port = 0
	}
	dir, _ := filepath.Abs(filepath.Join(p.cfg.DataDir, "influxdb"))
	in, err := services.StartInfluxd(ctx, bin, dir, port, filepath.Join(dir, "influxd.log"))
	if err != nil {
		return nil, err
	}
	return in, nil
}

func (p *platform) parts(ctx context.Context) ([]part, error) {
	var parts []part

	ic := ingestd.DefaultConfig()
	ic.MQTT.URL = p.brokerURL
	ic.Influx.URL = p.influxURL
	ic.Influx.Bucket = p.cfg.Influx.Bucket
	ic.Influx.CreateDatabase = true
	ic.Ingest.MaxInflight = min(ic.Ingest.MaxInflight, embeddedBrokerInflight)
	// Every service gets its own broker account, its password drawn now.
	ic.MQTT.Username = brokeracl.Ingest
	ic.MQTT.Password = p.auth.serviceAccount(brokeracl.Ingest, brokeracl.ServiceRules(smartdeal.Topics{}, brokeracl.Ingest))
	ing, err := ingestd.New(ic, p.log.With("component", "ingest"), p.reg)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	parts = append(parts, part{"ingest", ing.Run})
	checks := []boot.Check{{Name: "broker", Fn: ing.BrokerReady}, {Name: "influxdb", Fn: ing.StoreReady}}

	gateways := p.gatewayConfigs()
	for i, gc := range gateways {
		// A simulated gateway's account is its site's gateway account
		// ("gateway@<site>": no device id has an "@").
		gc.Broker.Username = "gateway@" + gc.Site
		gc.Broker.Password = p.auth.serviceAccount(gc.Broker.Username, brokeracl.GatewayRules(smartdeal.Topics{}, gc.Site))
		gateways[i] = gc
		g, err := gateway.New(gc, p.log.With("component", "gateway"))
		if err != nil {
			return nil, fmt.Errorf("simulated gateway %s: %w", gc.Site, err)
		}
		p.reg.MustRegister(prefixed{site: gc.Site, reg: g.Registry()})
		parts = append(parts, part{"gateway " + gc.Site, g.Run})
	}

	if p.cfg.Sim.Drones > 0 {
		drones, err := p.drones()
		if err != nil {
			return nil, err
		}
		parts = append(parts, drones...)
	}

	ac := apid.DefaultConfig()
	ac.DB = p.cfg.API.DB
	if ac.DB == "" {
		ac.DB = filepath.Join(p.cfg.DataDir, "smartdeal.db")
	}
	ac.HTTP.Addr = p.cfg.API.Addr
	ac.Influx.URL, ac.Influx.Bucket = p.influxURL, p.cfg.Influx.Bucket
	ac.MQTT.URL = p.brokerURL
	ac.MQTT.Username = brokeracl.API
	ac.MQTT.Password = p.auth.serviceAccount(brokeracl.API, brokeracl.ServiceRules(smartdeal.Topics{}, brokeracl.API))
	ac.Admin.Email, ac.Admin.Password = p.cfg.API.AdminEmail, p.cfg.API.AdminPassword
	ac.Mail = p.cfg.Mail
	ac.Map = p.cfg.Map
	civic, err := apid.New(ctx, ac, p.log.With("component", "api"), p.reg)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	p.apiURL = "http://" + civic.Addr()
	p.auth.useStore(ctx, civic.Store()) // devices authenticate with their provisioned credentials
	if p.cfg.API.Demo {
		p.seedDemo(ctx, civic.Store(), gateways)
	}
	parts = append(parts, part{"api", civic.Run})
	checks = append(checks, boot.Check{Name: "database", Fn: civic.DatabaseReady})

	// The alert evaluator: its own client in its own shared group, on the
	// API's database (opened again: its own pool, as a separate replica).
	al := alertsd.DefaultConfig()
	al.DB = ac.DB
	al.MQTT.URL = p.brokerURL
	al.MQTT.Username = brokeracl.Alerts
	al.MQTT.Password = p.auth.serviceAccount(brokeracl.Alerts, brokeracl.ServiceRules(smartdeal.Topics{}, brokeracl.Alerts))
	al.Influx.URL, al.Influx.Bucket = p.influxURL, p.cfg.Influx.Bucket
	al.Alerts = p.cfg.Alerts
	if al.Alerts.PublicURL == alerting.DefaultConfig().PublicURL {
		al.Alerts.PublicURL = p.apiURL
	}
	al.Mail = p.cfg.Mail
	alerts, err := alertsd.New(ctx, al, p.log.With("component", "alerts"), p.reg)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	parts = append(parts, part{"alerts", alerts.Run})
	checks = append(checks, boot.Check{Name: "alerts broker", Fn: alerts.BrokerReady})

	ops := boot.NewServer(boot.ServerConfig{Addr: p.cfg.HTTP.Ops, Registry: p.reg, Checks: checks}, p.log)
	parts = append(parts, part{"ops http", ops.Run})
	return parts, nil
}

// maxSimSite bounds a simulated site id: its devices are named <site>-<sensor>
// and a device id has at most 63 characters.
const maxSimSite = 40

// gatewayConfigs are the simulated gateways, one per site: the simulated
// sensors and the AtmoSud replay. Device ids are registry ids, unique across
// the platform (they are also MQTT user names), so every device of a site is
// prefixed with the site: nice-port-gateway, nice-port-weather-1,
// nice-port-atmosud…
func (p *platform) gatewayConfigs() []gateway.Config {
	out := make([]gateway.Config, 0, len(p.cfg.Sim.Sites))
	for i, site := range p.cfg.Sim.Sites {
		gc := gateway.SimulatedConfig(site, p.brokerURL, filepath.Join(p.cfg.DataDir, "spool", site), p.cfg.Sim.Sensors, p.cfg.Sim.Interval)
		if p.cfg.Sim.ReplaySpeedup > 0 {
			gc.Sensors = append(gc.Sensors, drivers.SensorConfig{
				Driver: "replay", Device: "atmosud", Interval: devices.Duration(p.cfg.Sim.Interval),
				Options: &replay.Config{Station: replayStations[i%len(replayStations)], Speedup: p.cfg.Sim.ReplaySpeedup},
			})
		}
		gc.Device = site + "-" + gc.DeviceID()
		for j := range gc.Sensors {
			gc.Sensors[j].Device = site + "-" + gc.Sensors[j].Device
		}
		out = append(out, gc)
	}
	return out
}

// droneHome and droneSurvey place the simulated drones at the first site
// (nice-port): they take off from the port's outer jetty and sweep the coast
// east of it, the area of the demo's coastline mission.
var (
	droneHome   = dronesim.Point{Lat: 43.6921, Lon: 7.2874}
	droneSurvey = []dronesim.Point{
		{Lat: 43.6893, Lon: 7.2890}, {Lat: 43.6893, Lon: 7.2927}, {Lat: 43.6911, Lon: 7.2927}, {Lat: 43.6911, Lon: 7.2890},
	}
)

// drones embeds a MAVLink bridge at the first site, on a free loopback UDP
// port, and a fleet of simulated survey drones that fly to it again and again.
func (p *platform) drones() ([]part, error) {
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	endpoint := "127.0.0.1:" + strconv.Itoa(port)
	bc := bridged.DefaultConfig()
	bc.Site = p.cfg.Sim.Sites[0]
	bc.Device = "mavbridge"
	bc.MQTT.URL = p.brokerURL
	bc.MQTT.Username = "mavbridge@" + bc.Site
	bc.MQTT.Password = p.auth.serviceAccount(bc.MQTT.Username, brokeracl.GatewayRules(smartdeal.Topics{}, bc.Site))
	bc.Spool.Dir = filepath.Join(p.cfg.DataDir, "spool", "mavbridge")
	bc.MAVLink.Endpoints = []string{"udp-server:" + endpoint}
	svc, err := bridged.New(bc, p.log.With("component", "mavbridge"), p.reg)
	if err != nil {
		return nil, fmt.Errorf("mavlink bridge: %w", err)
	}
	fleet := dronesim.Fleet{
		N: p.cfg.Sim.Drones, Endpoint: "udp-client:" + endpoint, TimeScale: 1,
		Vehicle: dronesim.Config{Repeat: 2 * time.Minute, Home: droneHome, Polygon: droneSurvey},
		Log:     p.log.With("component", "dronesim"),
	}
	return []part{{"mavlink bridge", svc.Run}, {"drone simulator", fleet.Run}}, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free udp port: %w", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// replayStations are AtmoSud stations whose recorded day the simulated sites replay.
var replayStations = []string{"NICE ARSON", "CANNES BROUSSAILLES", "PEILLON"}

// runParts runs every part until ctx ends or one fails, then stops them all
// and waits: each part flushes what it holds on the way out.
func runParts(ctx context.Context, log *slog.Logger, parts []part) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(parts))
	for _, pt := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := pt.run(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("%s: %w", pt.name, err)
				cancel()
			}
		}()
	}
	<-ctx.Done()
	log.Info("shutting down: flushing and stopping every part")
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}
