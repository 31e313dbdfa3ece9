package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The import rules of the repository (docs/architecture.md), checked on the
// package graph `go list -deps -json ./...` prints. TestLeanDependencies
// (main_test.go) checks what the gateway binary links; this test checks the arrows
// between the packages, so that a new import that breaks the layering fails
// here, naming the importing package, the import and the path between them.

const module = "github.com/cd06/smartdeal"

// leaves are the shared packages at the root: the domain, the codecs, the
// decoder, the storage schema and the TLS helper. Each may import only the
// standard library, the module packages listed, and the format library it
// wraps (a prefix). Nothing else, not even transitively.
var leaves = map[string][]string{
	"":                      {},
	"senml":                 {""},
	"lineproto":             {"", "github.com/influxdata/line-protocol/v2/"},
	"telemetry":             {"", "senml", "lineproto", "github.com/influxdata/line-protocol/v2/"},
	"influxschema":          {""},
	"atmo":                  {""},
	"internal/tlsfiles":     {},
	"firmware-bridge/drone": {},
	"dashboards/series":     {""},
}

// inner are the module packages that are neither leaves nor adapters but
// stay clear of every external system's client: they never import an
// adapter, Fiber and its fasthttp, SQL, the InfluxDB client or an MQTT
// client, not even transitively. The live feed (hub, telemetry into events,
// device status) is one: the API writes its streams as SSE, the wiring
// (cmd/internal/apid) feeds it from MQTT.
var inner = []string{
	"dashboards/live",
	"dashboards/alerting",
	"dashboards/app",
	"dashboards/fr",
	"dashboards/pages/chart",
	"dashboards/pages/legal",
	"dashboards/brokeracl",
}

// webLayer are the packages of the web layer below the server: the shared
// HTTP kit, the workflows of the JSON routes and forms, the pages. They
// import Fiber but no adapter and no SQL, InfluxDB or MQTT client, not even
// transitively: the server (dashboards/api) gets the store and the
// measurements through interfaces, and the wiring passes the adapters.
var webLayer = []string{
	"dashboards/web",
	"dashboards/actions",
	"dashboards/pages",
}

// fiberUsers are the only module packages that import Fiber (and fasthttp)
// directly: the server, the kit, the workflows, the pages. The domain, the
// views (dashboards/app) and the leaves never see a request.
var fiberUsers = []string{
	"dashboards/api",
	"dashboards/web",
	"dashboards/actions",
	"dashboards/pages",
}

// clearOfClients is what the inner packages never import (the adapters are
// added by the test).
var clearOfClients = []string{
	"github.com/gofiber/", "github.com/valyala/fasthttp",
	"github.com/influxdata/influxdb-client-go",
	"database/sql", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3",
	"github.com/pressly/goose",
	"github.com/eclipse/paho.mqtt.golang",
}

// clearOfWeb are the prefixes devices/ and firmware-bridge/ (the code that
// runs on gateways and bridges) never import: the web layer, Fiber and its
// fasthttp, the InfluxDB client, SQL.
var clearOfWeb = []string{
	module + "/dashboards/",
	"github.com/gofiber/", "github.com/valyala/fasthttp",
	"github.com/influxdata/influxdb-client-go",
	"database/sql", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/lib/pq", "github.com/mattn/go-sqlite3",
	"github.com/pressly/goose",
}

// adapters wrap one external system each (MQTT for the ingest, InfluxDB
// writes, SQL, InfluxDB reads, HTTP). They never import each other, even
// through another package: they meet in cmd/ (cmd/internal/ingestd,
// cmd/internal/bridged, cmd/internal/apid: the wiring). An adapter's
// sub-packages are part of it (adapterOf): dashboards/sqlstore is cut by
// domain into its core (sqlstore/sqldb) and sub-stores (sqlstore/limits,
// sqlstore/alertstore, …), one adapter of one system, SQL, whose packages
// import each other freely and whose imports all count as sqlstore's.
var adapters = []string{
	"ingest/mqttsub",
	"ingest/influxstore",
	"dashboards/sqlstore",
	"dashboards/measure",
	"dashboards/api",
}

// adapterOf is the adapter the module package r (relative) belongs to, the
// adapter itself or a package below it, or "" for none.
func adapterOf(r string) string {
	for _, a := range adapters {
		if r == a || strings.HasPrefix(r, a+"/") {
			return a
		}
	}
	return ""
}

// adapterExceptions are the arrows between adapters that exist today, each
// with the reason and who removes it. Keep this list short.
var adapterExceptions = map[[2]string]string{}

type listedPackage struct {
	ImportPath   string
	Standard     bool
	Imports      []string
	TestImports  []string
	XTestImports []string
	Error        *struct{ Err string }
}

// packageGraph runs go list at the module root and returns every package it
// printed (the module's and their dependencies), by import path.
func packageGraph(t *testing.T) map[string]*listedPackage {
	t.Helper()
	cmd := exec.Command(goTool(), "list", "-deps", "-json", "./...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -json ./...: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		p := &listedPackage{}
		if err := dec.Decode(p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs[p.ImportPath] = p
	}
	if pkgs[module] == nil || pkgs[module+"/senml"] == nil {
		t.Fatalf("go list did not list the module's packages (ran in %s)", cmd.Dir)
	}
	return pkgs
}

// rel is a module package's path relative to the module ("" for the root),
// or false for a package outside the module.
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	return strings.CutPrefix(path, module+"/")
}

func abs(r string) string {
	if r == "" {
		return module
	}
	return module + "/" + r
}

// chain returns the shortest import path from → … → to (non-test imports).
func chain(pkgs map[string]*listedPackage, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var out []string
			for ; p != ""; p = prev[p] {
				out = append(out, short(p))
			}
			slices.Reverse(out)
			return out
		}
		if pkgs[p] == nil {
			continue
		}
		for _, q := range pkgs[p].Imports {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return nil
}

// deps returns the non-test dependencies of a package, transitively.
func deps(pkgs map[string]*listedPackage, from string) []string {
	seen := map[string]bool{from: true}
	queue := []string{from}
	var out []string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if pkgs[p] == nil {
			continue
		}
		for _, q := range pkgs[p].Imports {
			if !seen[q] {
				seen[q] = true
				out = append(out, q)
				queue = append(queue, q)
			}
		}
	}
	slices.Sort(out)
	return out
}

func short(path string) string {
	if r, ok := rel(path); ok {
		if r == "" {
			return "smartdeal (root)"
		}
		return r
	}
	return path
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == strings.TrimSuffix(p, "/") || strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// TestImportRules fails on the first import that breaks a rule of
// docs/architecture.md, and on every other one, each named with the way it
// comes in.
func TestImportRules(t *testing.T) {
	pkgs := packageGraph(t)
	var own []string // the module's packages, relative
	for path := range pkgs {
		if r, ok := rel(path); ok {
			own = append(own, r)
		}
	}
	slices.Sort(own)
	broken := func(rule, from, dep string) {
		t.Helper()
		how := ""
		if c := chain(pkgs, abs(from), dep); len(c) > 2 {
			how = " (through " + strings.Join(c, " → ") + ")"
		}
		t.Errorf("import rule broken: %s imports %s%s: %s", short(abs(from)), short(dep), how, rule)
	}

	// 1. The domain and the codecs import only the standard library and the
	// format library a codec wraps.
	for _, leaf := range slices.Sorted(maps.Keys(leaves)) {
		allowed := leaves[leaf]
		if pkgs[abs(leaf)] == nil {
			t.Errorf("import rules name %s, which go list does not know: update the rules", short(abs(leaf)))
			continue
		}
		for _, d := range deps(pkgs, abs(leaf)) {
			if d == "C" || pkgs[d] != nil && pkgs[d].Standard { // C: cgo, as the standard library's net uses it
				continue
			}
			ok := false
			for _, a := range allowed {
				if r, own := rel(d); (own && r == a) || (strings.Contains(a, ".") && hasPrefix(d, []string{a})) {
					ok = true
				}
			}
			if !ok {
				broken(fmt.Sprintf("the domain and the codecs import only the standard library (%s may also import %s)", short(abs(leaf)), allowedList(allowed)), leaf, d)
			}
		}
	}

	// 1b. The inner packages import no adapter and no external system's client.
	for _, p := range inner {
		if pkgs[abs(p)] == nil {
			t.Errorf("import rules name %s, which go list does not know: update the rules", p)
			continue
		}
		for _, d := range deps(pkgs, abs(p)) {
			if r, own := rel(d); own && adapterOf(r) != "" || hasPrefix(d, clearOfClients) {
				broken("the inner packages (live) import no adapter, Fiber, SQL, InfluxDB or MQTT client: they meet those in cmd/", p, d)
			}
		}
	}

	// 1c. The web layer imports no adapter, SQL, InfluxDB or MQTT client;
	// only the server and the web layer import Fiber.
	noClients := slices.DeleteFunc(slices.Clone(clearOfClients), func(p string) bool {
		return p == "github.com/gofiber/" || p == "github.com/valyala/fasthttp"
	})
	for _, p := range webLayer {
		if pkgs[abs(p)] == nil {
			t.Errorf("import rules name %s, which go list does not know: update the rules", p)
			continue
		}
		for _, d := range deps(pkgs, abs(p)) {
			if d == "database/sql/driver" {
				continue // interfaces only, no driver: Fiber's uuid implements driver.Valuer
			}
			if r, own := rel(d); own && adapterOf(r) != "" || hasPrefix(d, noClients) {
				broken("the web layer (web, actions, pages) imports neither the server nor an adapter, SQL, InfluxDB or MQTT client: the server passes them as interfaces", p, d)
			}
		}
	}
	fiberPrefixes := []string{"github.com/gofiber/", "github.com/valyala/fasthttp"}
	for _, r := range own {
		if slices.Contains(fiberUsers, r) {
			continue
		}
		for _, d := range pkgs[abs(r)].Imports {
			if hasPrefix(d, fiberPrefixes) {
				broken("only the server (dashboards/api) and the web layer (web, actions, pages) import Fiber", r, d)
			}
		}
	}

	// 2. devices/ and firmware-bridge/ never import dashboards/, Fiber, the
	// InfluxDB client or SQL drivers, not even in their tests.
	wingRule := "devices/ and firmware-bridge/ never import dashboards/, Fiber, the InfluxDB client or SQL drivers"
	for _, r := range own {
		if !strings.HasPrefix(r, "devices/") && r != "devices" && !strings.HasPrefix(r, "firmware-bridge/") && r != "firmware-bridge" {
			continue
		}
		for _, d := range deps(pkgs, abs(r)) {
			if hasPrefix(d, clearOfWeb) {
				broken(wingRule, r, d)
			}
		}
		p := pkgs[abs(r)]
		for _, d := range append(slices.Clone(p.TestImports), p.XTestImports...) {
			if hasPrefix(d, clearOfWeb) {
				t.Errorf("import rule broken: the tests of %s import %s: %s", r, short(d), wingRule)
			}
		}
	}

	// 3. Adapters do not import each other, even through another package;
	// an adapter's sub-packages are the adapter (adapterOf), so no package of
	// one imports a package of another.
	for _, a := range adapters {
		if pkgs[abs(a)] == nil {
			t.Errorf("import rules name the adapter %s, which go list does not know: update the rules", a)
		}
	}
	for _, r := range own {
		a := adapterOf(r)
		if a == "" {
			continue
		}
		for _, d := range deps(pkgs, abs(r)) {
			dr, own := rel(d)
			b := adapterOf(dr)
			if !own || b == "" || b == a {
				continue
			}
			if _, ok := adapterExceptions[[2]string{a, b}]; ok {
				continue
			}
			broken("adapters do not import each other (an adapter's sub-packages are part of it): they meet in cmd/ (wiring: cmd/internal/ingestd, cmd/internal/bridged, cmd/internal/apid)", r, d)
		}
	}
	for pair, why := range adapterExceptions {
		if !slices.Contains(deps(pkgs, abs(pair[0])), abs(pair[1])) {
			t.Errorf("%s no longer imports %s: remove the exception (%s)", pair[0], pair[1], why)
		}
	}

	// 4. Nothing outside cmd/ imports cmd/, not even in tests.
	for _, r := range own {
		if r == "cmd" || strings.HasPrefix(r, "cmd/") {
			continue
		}
		p := pkgs[abs(r)]
		for _, d := range slices.Concat(p.Imports, p.TestImports, p.XTestImports) {
			if d == module+"/cmd" || strings.HasPrefix(d, module+"/cmd/") {
				broken("nothing imports cmd/ but cmd/ itself: programs and their wiring sit on top", r, d)
			}
		}
	}
}

func allowedList(allowed []string) string {
	if len(allowed) == 0 {
		return "nothing else"
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if strings.Contains(a, ".") {
			names[i] = a + "…"
		} else {
			names[i] = short(abs(a))
		}
	}
	return strings.Join(names, ", ")
}
