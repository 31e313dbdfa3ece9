// Package deploy_test checks the deployment files against the code they
// configure: every YAML and JSON file under deploy/ and dashboards/grafana
// parses; every SMARTDEAL_* variable they name is a configuration key of the
// program it is given to; every Flux query of the Grafana dashboards uses only
// the InfluxDB schema's tags (docs/influxdb-schema.md); the compose copies of
// the broker's configuration and ACL keep every setting of deploy/mosquitto.
//
// The key lists are read from the programs' source (the koanf-tagged config
// structs of cmd/ingest, cmd/api and cmd/mavbridge, walked the way
// cmd/internal/boot walks them; the literal variable names of cmd/gateway),
// so the test needs no build; TestStaticKeysMatchPrograms also checks that static list
// against `go run ./cmd/ingest -keys` and `go run ./cmd/api -keys`.
package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cd06/smartdeal/devices/gateway"
)

const module = "github.com/cd06/smartdeal"

// root is the repository root (this file is in deploy/).
func root(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	r := filepath.Dir(wd)
	if _, err := os.Stat(filepath.Join(r, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", wd, err)
	}
	return r
}

// ---------------------------------------------------------------------------
// Parsing every YAML and JSON file.

type file struct {
	rel  string // slash path from the repository root
	docs []any  // YAML documents (one for JSON)
}

var (
	filesOnce sync.Once
	filesVal  []file
	filesErr  error
)

func loadFiles(t *testing.T) []file {
	t.Helper()
	r := root(t)
	filesOnce.Do(func() {
		var errs []error
		for _, dir := range []string{"deploy", "dashboards/grafana"} {
			err := filepath.WalkDir(filepath.Join(r, dir), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() {
					return nil
				}
				ext := strings.ToLower(filepath.Ext(p))
				if ext != ".yaml" && ext != ".yml" && ext != ".json" {
					return nil
				}
				rel, _ := filepath.Rel(r, p)
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				f := file{rel: filepath.ToSlash(rel)}
				if ext == ".json" {
					var v any
					if err := json.Unmarshal(b, &v); err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", f.rel, err))
						return nil
					}
					f.docs = []any{v}
				} else {
					docs, err := parseYAML(b)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", f.rel, err))
						return nil
					}
					f.docs = docs
				}
				filesVal = append(filesVal, f)
				return nil
			})
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		filesErr = errors.Join(errs...)
	})
	if filesErr != nil {
		t.Fatal(filesErr)
	}
	return filesVal
}

// parseYAML decodes every document of a (multi-document) YAML stream.
func parseYAML(b []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []any
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
}

func TestFilesParse(t *testing.T) {
	fs := loadFiles(t)
	want := []string{"deploy/compose/compose.yaml", "deploy/k8s/kustomization.yaml",
		"dashboards/grafana/dashboards/smartdeal-telemetry.json"}
	have := map[string]bool{}
	for _, f := range fs {
		have[f.rel] = true
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("%s missing or not parsed", w)
		}
	}
	t.Logf("%d YAML/JSON files parsed", len(fs))
}

// ---------------------------------------------------------------------------
// The programs' configuration keys, from their source.

// programs are the binaries of the image (Dockerfile).
var programs = []string{"ingest", "alerts", "api", "gateway", "mavbridge", "dronesim", "loadgen"}

// rootTypes are the configuration structs loaded by cmd/internal/boot.Load.
var rootTypes = map[string]string{"ingest": "config", "alerts": "config", "api": "config", "mavbridge": "Config"}

var (
	keysOnce sync.Once
	keysVal  map[string]map[string]bool
	keysErr  error
)

// programKeys returns, per program, the SMARTDEAL_* variables it reads.
func programKeys(t *testing.T) map[string]map[string]bool {
	t.Helper()
	r := root(t)
	keysOnce.Do(func() {
		keysVal = map[string]map[string]bool{}
		w := &walker{root: r, pkgs: map[string]*pkgInfo{}}
		for _, p := range programs {
			set := map[string]bool{"SMARTDEAL_CONFIG": true}
			if typ, ok := rootTypes[p]; ok {
				keys, err := w.keys("cmd/"+p, typ)
				if err != nil {
					keysErr = errors.Join(keysErr, fmt.Errorf("%s: %w", p, err))
					continue
				}
				for _, k := range keys {
					set[envName(k)] = true
				}
			}
			// Programs that read variables by name (the gateway's overrides,
			// mavbridge's maps, loadgen's defaults) name them as literals.
			lits, err := envLiterals(filepath.Join(r, "cmd", p))
			if err != nil {
				keysErr = errors.Join(keysErr, err)
			}
			for _, l := range lits {
				set[l] = true
			}
			keysVal[p] = set
		}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return keysVal
}

// envName is boot.EnvName.
func envName(key string) string {
	return "SMARTDEAL_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

var envRe = regexp.MustCompile(`SMARTDEAL_[A-Z0-9_]*[A-Z0-9]`)

// envLiterals returns the SMARTDEAL_* names in the string literals of the
// non-test Go files of dir.
func envLiterals(dir string) ([]string, error) {
	fset := token.NewFileSet()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, envRe.FindAllString(s, -1)...)
				}
			}
			return true
		})
	}
	return out, nil
}

// walker flattens koanf-tagged structs from source, as boot's reflect walk
// does: a struct field is walked (key prefix.name) unless it is time.Duration
// or implements encoding.TextUnmarshaler; anything else is a leaf.
type walker struct {
	root string
	pkgs map[string]*pkgInfo // by module-relative dir
}

type pkgInfo struct {
	types   map[string]ast.Expr          // type name → its type expression
	imports map[string]map[string]string // file of the type → import name → path
	fileOf  map[string]string            // type name → file
	textU   map[string]bool              // types with an UnmarshalText method
}

func (w *walker) pkg(dir string) (*pkgInfo, error) {
	if p, ok := w.pkgs[dir]; ok {
		return p, nil
	}
	abs := filepath.Join(w.root, filepath.FromSlash(dir))
	ents, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	p := &pkgInfo{types: map[string]ast.Expr{}, imports: map[string]map[string]string{},
		fileOf: map[string]string{}, textU: map[string]bool{}}
	fset := token.NewFileSet()
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(abs, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		imps := map[string]string{}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			name := path.Base(ip)
			if im.Name != nil {
				name = im.Name.Name
			} else if strings.HasPrefix(ip, module+"/") {
				name = w.pkgName(strings.TrimPrefix(ip, module+"/"))
			} else if strings.HasPrefix(name, "v") && len(name) > 1 && name[1] >= '0' && name[1] <= '9' {
				name = path.Base(path.Dir(ip)) // …/influxdb-client-go/v2
			}
			imps[name] = ip
		}
		p.imports[n] = imps
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						p.types[ts.Name.Name] = ts.Type
						p.fileOf[ts.Name.Name] = n
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil && d.Name.Name == "UnmarshalText" && len(d.Recv.List) == 1 {
					rt := d.Recv.List[0].Type
					if st, ok := rt.(*ast.StarExpr); ok {
						rt = st.X
					}
					if id, ok := rt.(*ast.Ident); ok {
						p.textU[id.Name] = true
					}
				}
			}
		}
	}
	w.pkgs[dir] = p
	return p, nil
}

// pkgName reads the package clause of a directory of the module.
func (w *walker) pkgName(dir string) string {
	abs := filepath.Join(w.root, filepath.FromSlash(dir))
	ents, _ := os.ReadDir(abs)
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(abs, n), nil, parser.PackageClauseOnly)
			if err == nil {
				return f.Name.Name
			}
		}
	}
	return path.Base(dir)
}

func (w *walker) keys(dir, typ string) ([]string, error) {
	var out []string
	err := w.walkType(dir, typ, "", &out, 0)
	sort.Strings(out)
	return out, err
}

func (w *walker) walkType(dir, typ, prefix string, out *[]string, depth int) error {
	if depth > 10 {
		return fmt.Errorf("%s.%s: too deep", dir, typ)
	}
	p, err := w.pkg(dir)
	if err != nil {
		return err
	}
	expr, ok := p.types[typ]
	if !ok {
		return fmt.Errorf("type %s not found in %s", typ, dir)
	}
	st, ok := expr.(*ast.StructType)
	if !ok {
		return fmt.Errorf("%s.%s is not a struct", dir, typ)
	}
	imps := p.imports[p.fileOf[typ]]
	for _, f := range st.Fields.List {
		var names []string
		for _, n := range f.Names {
			names = append(names, n.Name)
		}
		if len(names) == 0 { // embedded: boot uses the type's name
			names = []string{typeName(f.Type)}
		}
		tag := ""
		if f.Tag != nil {
			s, _ := strconv.Unquote(f.Tag.Value)
			tag = reflect.StructTag(s).Get("koanf")
		}
		for _, n := range names {
			if !ast.IsExported(n) {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(n)
			}
			key := name
			if prefix != "" {
				key = prefix + "." + name
			}
			sdir, styp, isStruct, err := w.structOf(dir, p, imps, f.Type)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			if isStruct {
				if err := w.walkType(sdir, styp, key, out, depth+1); err != nil {
					return err
				}
				continue
			}
			*out = append(*out, key)
		}
	}
	return nil
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.StarExpr:
		return typeName(e.X)
	}
	return ""
}

// structOf tells whether a field type is a struct of this module that boot
// walks into, and where it is declared.
func (w *walker) structOf(dir string, p *pkgInfo, imps map[string]string, e ast.Expr) (string, string, bool, error) {
	var tdir, tname string
	switch e := e.(type) {
	case *ast.Ident:
		if _, ok := p.types[e.Name]; !ok {
			return "", "", false, nil // predeclared: string, int, bool…
		}
		tdir, tname = dir, e.Name
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		if !ok {
			return "", "", false, nil
		}
		ip := imps[x.Name]
		if ip == "" {
			return "", "", false, fmt.Errorf("unknown import %s", x.Name)
		}
		if ip == module || !strings.HasPrefix(ip, module+"/") {
			return "", "", false, nil // time.Duration, standard or third-party types: leaves
		}
		tdir, tname = strings.TrimPrefix(ip, module+"/"), e.Sel.Name
	default:
		return "", "", false, nil // pointers, slices, maps: leaves
	}
	tp, err := w.pkg(tdir)
	if err != nil {
		return "", "", false, err
	}
	te, ok := tp.types[tname]
	if !ok {
		return "", "", false, fmt.Errorf("type %s not found in %s", tname, tdir)
	}
	if tp.textU[tname] {
		return "", "", false, nil
	}
	if _, isStruct := te.(*ast.StructType); !isStruct {
		// An alias or a defined type of another named type (api.Legal =
		// legal.Legal): follow it to the struct it names, if any.
		switch te.(type) {
		case *ast.Ident, *ast.SelectorExpr:
			return w.structOf(tdir, tp, tp.imports[tp.fileOf[tname]], te)
		}
		return "", "", false, nil
	}
	return tdir, tname, true, nil
}

// TestStaticKeysMatchPrograms checks the static key lists against the
// programs' own -keys output (a build of cmd/ingest and cmd/api).
func TestStaticKeysMatchPrograms(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("no go command:", err)
	}
	keys := programKeys(t)
	for _, p := range []string{"ingest", "alerts", "api"} {
		cmd := exec.Command(goBin, "run", "./cmd/"+p, "-keys")
		cmd.Dir = root(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go run ./cmd/%s -keys: %v\n%s", p, err, out)
		}
		got := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && strings.HasPrefix(f[1], "SMARTDEAL_") {
				got[f[1]] = true
			}
		}
		if len(got) < 10 {
			t.Fatalf("%s -keys listed %d variables:\n%s", p, len(got), out)
		}
		for k := range got {
			if !keys[p][k] {
				t.Errorf("%s -keys lists %s, the static walk does not", p, k)
			}
		}
		for k := range keys[p] {
			if !got[k] && k != "SMARTDEAL_CONFIG" {
				t.Errorf("the static walk gives %s for %s, -keys does not", k, p)
			}
		}
	}
}

func TestStaticKeys(t *testing.T) {
	keys := programKeys(t)
	for p, want := range map[string][]string{
		"ingest":    {"SMARTDEAL_MQTT_CLIENT_ID", "SMARTDEAL_MQTT_GROUP", "SMARTDEAL_INGEST_MAX_INFLIGHT", "SMARTDEAL_INFLUX_TOKEN", "SMARTDEAL_HTTP_ADDR", "SMARTDEAL_LOG_FORMAT"},
		"alerts":    {"SMARTDEAL_DB", "SMARTDEAL_MQTT_GROUP", "SMARTDEAL_ALERTS_WEBHOOKS", "SMARTDEAL_ALERTS_MAIL_INTERVAL", "SMARTDEAL_MAIL_HOST", "SMARTDEAL_HTTP_ADDR"},
		"api":       {"SMARTDEAL_DB", "SMARTDEAL_ADMIN_PASSWORD", "SMARTDEAL_HTTP_COOKIE_SECURE", "SMARTDEAL_INFLUX_CACHE_TTL", "SMARTDEAL_API_RATE_STORE"},
		"mavbridge": {"SMARTDEAL_SITE", "SMARTDEAL_HTTP_ADDR", "SMARTDEAL_SPOOL_DIR", "SMARTDEAL_MAVLINK_ENDPOINTS", "SMARTDEAL_MAVLINK_DEVICES"},
		"gateway":   {"SMARTDEAL_MQTT_URL", "SMARTDEAL_SITE", "SMARTDEAL_SPOOL_DIR", "SMARTDEAL_HTTP_ADDR"},
	} {
		for _, k := range want {
			if !keys[p][k] {
				t.Errorf("%s: %s not found in its keys %v", p, k, sorted(keys[p]))
			}
		}
	}
	for p, bad := range map[string]string{"ingest": "SMARTDEAL_DB", "api": "SMARTDEAL_MQTT_GROUP", "alerts": "SMARTDEAL_ALERTS_TOPIC_PREFIX",
		"gateway": "SMARTDEAL_INFLUX_URL", "dronesim": "SMARTDEAL_MQTT_URL"} {
		if keys[p][bad] {
			t.Errorf("%s: %s is not one of its keys, yet found", p, bad)
		}
	}
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---------------------------------------------------------------------------
// SMARTDEAL_* variables in the deployment files.

// envUse is one SMARTDEAL_* variable given to one program.
type envUse struct {
	where, program, name string
}

// collectEnv finds the variables given to programs in compose files and
// Kubernetes manifests, and every other SMARTDEAL_* name in the files
// (program ""). Problems of structure (no program for a container that gets
// variables, a ConfigMap nobody uses) are returned as errors.
func collectEnv(files []file) ([]envUse, []error) {
	var uses []envUse
	var errs []error
	accounted := map[string]bool{} // "file\x00name" given to a known program

	// Kubernetes: ConfigMaps and Secrets by name, then workloads.
	type source struct {
		where string
		keys  []string
		used  bool
	}
	sources := map[string]*source{} // kind/namespace-less name
	for _, f := range files {
		for _, d := range f.docs {
			m, _ := d.(map[string]any)
			kind, _ := m["kind"].(string)
			if kind != "ConfigMap" && kind != "Secret" {
				continue
			}
			name, _ := mapAt(m, "metadata")["name"].(string)
			s := &source{where: f.rel + ": " + kind + " " + name}
			for _, field := range []string{"data", "stringData"} {
				for k := range mapAt(m, field) {
					s.keys = append(s.keys, k)
				}
			}
			sources[kind+"/"+name] = s
		}
	}
	for _, f := range files {
		for _, d := range f.docs {
			m, _ := d.(map[string]any)
			if svcs, ok := m["services"].(map[string]any); ok && f.rel != "" && strings.Contains(f.rel, "compose") {
				for sname, sv := range svcs {
					svc, _ := sv.(map[string]any)
					where := f.rel + ": service " + sname
					names := composeEnv(svc["environment"])
					prog := programOf(svc["entrypoint"], svc["command"])
					if len(names) > 0 && prog == "" {
						errs = append(errs, fmt.Errorf("%s: SMARTDEAL_* variables but no program in command/entrypoint", where))
					}
					for _, n := range names {
						uses = append(uses, envUse{where, prog, n})
						accounted[f.rel+"\x00"+n] = true
					}
				}
			}
			for _, pod := range podSpecs(m) {
				for _, c := range containers(pod) {
					where := fmt.Sprintf("%s: %s %v container %v", f.rel, m["kind"], mapAt(m, "metadata")["name"], c["name"])
					prog := programOf(c["command"], c["args"])
					var names []string
					for _, e := range list(c["env"]) {
						if em, ok := e.(map[string]any); ok {
							if n, _ := em["name"].(string); strings.HasPrefix(n, "SMARTDEAL_") {
								names = append(names, n)
							}
						}
					}
					for _, ef := range list(c["envFrom"]) {
						em, _ := ef.(map[string]any)
						for kind, field := range map[string]string{"ConfigMap": "configMapRef", "Secret": "secretRef"} {
							ref := mapAt(em, field)
							if ref == nil {
								continue
							}
							name, _ := ref["name"].(string)
							s, ok := sources[kind+"/"+name]
							if !ok {
								errs = append(errs, fmt.Errorf("%s: envFrom %s %s not found under deploy/", where, kind, name))
								continue
							}
							s.used = true
							names = append(names, s.keys...)
						}
					}
					if prog == "" && len(names) > 0 {
						errs = append(errs, fmt.Errorf("%s: SMARTDEAL_* variables but no program in command/args", where))
					}
					for _, n := range names {
						if strings.HasPrefix(n, "SMARTDEAL_") {
							uses = append(uses, envUse{where, prog, n})
						}
					}
				}
			}
		}
	}
	for _, s := range sources {
		hasEnv := false
		for _, k := range s.keys {
			hasEnv = hasEnv || strings.HasPrefix(k, "SMARTDEAL_")
		}
		if hasEnv && !s.used {
			errs = append(errs, fmt.Errorf("%s: SMARTDEAL_* keys but no workload under deploy/ uses it (envFrom)", s.where))
		}
		if s.used {
			for _, k := range s.keys {
				accounted[strings.SplitN(s.where, ":", 2)[0]+"\x00"+k] = true
			}
		}
	}
	// Every other mention anywhere in the files.
	for _, f := range files {
		seen := map[string]bool{}
		for _, d := range f.docs {
			walkStrings(d, func(s string) {
				for _, n := range envRe.FindAllString(s, -1) {
					if !accounted[f.rel+"\x00"+n] && !seen[n] {
						seen[n] = true
						uses = append(uses, envUse{f.rel, "", n})
					}
				}
			})
		}
	}
	return uses, errs
}

func mapAt(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// composeEnv returns the SMARTDEAL_* names of a compose environment (map or list).
func composeEnv(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k := range v {
			if strings.HasPrefix(k, "SMARTDEAL_") {
				out = append(out, k)
			}
		}
	case []any:
		for _, e := range v {
			s, _ := e.(string)
			k, _, _ := strings.Cut(s, "=")
			if strings.HasPrefix(k, "SMARTDEAL_") {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// programOf returns the program a container runs: the base name of the first
// word of its entrypoint/command (compose) or command/args (Kubernetes), when
// it is one of the image's programs.
func programOf(first, second any) string {
	for _, v := range []any{first, second} {
		var w string
		switch v := v.(type) {
		case string:
			if f := strings.Fields(v); len(f) > 0 {
				w = f[0]
			}
		case []any:
			if len(v) > 0 {
				w, _ = v[0].(string)
			}
		}
		if w == "" {
			continue
		}
		b := path.Base(w)
		for _, p := range programs {
			if b == p {
				return p
			}
		}
		return ""
	}
	return ""
}

// podSpecs returns the pod specs of a Kubernetes workload document.
func podSpecs(m map[string]any) []map[string]any {
	switch m["kind"] {
	case "Pod":
		return []map[string]any{mapAt(m, "spec")}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return []map[string]any{mapAt(mapAt(mapAt(m, "spec"), "template"), "spec")}
	case "CronJob":
		return []map[string]any{mapAt(mapAt(mapAt(mapAt(mapAt(m, "spec"), "jobTemplate"), "spec"), "template"), "spec")}
	}
	return nil
}

func containers(pod map[string]any) []map[string]any {
	var out []map[string]any
	for _, f := range []string{"initContainers", "containers"} {
		for _, c := range list(pod[f]) {
			if cm, ok := c.(map[string]any); ok {
				out = append(out, cm)
			}
		}
	}
	return out
}

func walkStrings(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case map[string]any:
		for k, e := range v {
			fn(k)
			walkStrings(e, fn)
		}
	case []any:
		for _, e := range v {
			walkStrings(e, fn)
		}
	}
}

// checkEnv returns an error for every variable that is not a key of the
// program it is given to (or, without a program, of any program).
func checkEnv(uses []envUse, keys map[string]map[string]bool) []error {
	var errs []error
	for _, u := range uses {
		if u.program != "" {
			if !keys[u.program][u.name] {
				errs = append(errs, fmt.Errorf("%s: %s is not a configuration key of %s", u.where, u.name, u.program))
			}
			continue
		}
		known := false
		for _, ks := range keys {
			known = known || ks[u.name]
		}
		if !known {
			errs = append(errs, fmt.Errorf("%s: %s is not a configuration key of any program", u.where, u.name))
		}
	}
	return errs
}

func TestEnvironmentVariables(t *testing.T) {
	files := loadFiles(t)
	keys := programKeys(t)
	uses, errs := collectEnv(files)
	errs = append(errs, checkEnv(uses, keys)...)
	for _, err := range errs {
		t.Error(err)
	}
	perProgram := map[string]int{}
	for _, u := range uses {
		perProgram[u.program]++
	}
	for _, p := range []string{"ingest", "api", "gateway", "mavbridge"} {
		if perProgram[p] == 0 {
			t.Errorf("no SMARTDEAL_* variable given to %s found: is the compose/k8s detection broken?", p)
		}
	}
	t.Logf("variables checked per program: %v", perProgram)

	// Text files of the deployment (Dockerfile, READMEs, env examples, other
	// configs) may only name variables that some program reads.
	r := root(t)
	texts := []string{filepath.Join(r, "Dockerfile")}
	_ = filepath.WalkDir(filepath.Join(r, "deploy"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".go") {
			texts = append(texts, p)
		}
		return nil
	})
	var tu []envUse
	for _, p := range texts {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			continue
		}
		rel, _ := filepath.Rel(r, p)
		for _, n := range envRe.FindAllString(string(b), -1) {
			tu = append(tu, envUse{rel, "", n})
		}
	}
	for _, err := range checkEnv(tu, keys) {
		t.Error(err)
	}
}

// TestEnvCheckFails shows that the checks above catch what they are for.
func TestEnvCheckFails(t *testing.T) {
	keys := programKeys(t)
	compose, _ := parseYAML([]byte(`
services:
  ingest-9:
    command: ["ingest"]
    environment:
      SMARTDEAL_MQTT_CLIENT_ID: ingest-9
      SMARTDEAL_DB: postgres://x
  api:
    command: api
    environment: ["SMARTDEAL_MQTT_GROUP=ingest", "SMARTDEAL_DB=x"]
  mystery:
    image: smartdeal
    environment: {SMARTDEAL_HTTP_ADDR: ":1"}
`))
	k8s, _ := parseYAML([]byte(`
kind: ConfigMap
metadata: {name: c}
data: {SMARTDEAL_INGEST_BATCH_SIZES: "1"}
---
kind: ConfigMap
metadata: {name: orphan}
data: {SMARTDEAL_LOG_LEVEL: info}
---
kind: StatefulSet
metadata: {name: s}
spec:
  template:
    spec:
      containers:
        - name: ingest
          command: [/usr/local/bin/ingest]
          envFrom: [{configMapRef: {name: c}}]
          env: [{name: SMARTDEAL_MQTT_CLIENT_ID}, {name: SMARTDEAL_ADMIN_EMAIL}]
`))
	uses, errs := collectEnv([]file{{"deploy/compose/x.yaml", compose}, {"deploy/k8s/x.yaml", k8s},
		{"dashboards/grafana/x.json", []any{map[string]any{"note": "set SMARTDEAL_NOPE"}}}})
	errs = append(errs, checkEnv(uses, keys)...)
	msgs := fmt.Sprint(errs)
	for _, want := range []string{
		"SMARTDEAL_DB is not a configuration key of ingest",
		"SMARTDEAL_MQTT_GROUP is not a configuration key of api",
		"service mystery: SMARTDEAL_* variables but no program",
		"SMARTDEAL_INGEST_BATCH_SIZES is not a configuration key of ingest",
		"ConfigMap orphan: SMARTDEAL_* keys but no workload",
		"SMARTDEAL_ADMIN_EMAIL is not a configuration key of ingest",
		"SMARTDEAL_NOPE is not a configuration key of any program",
	} {
		if !strings.Contains(msgs, want) {
			t.Errorf("check did not report %q; got:\n%s", want, strings.ReplaceAll(msgs, "} ", "}\n"))
		}
	}
	if strings.Contains(msgs, "SMARTDEAL_MQTT_CLIENT_ID is not") || strings.Contains(msgs, "SMARTDEAL_DB is not a configuration key of api") {
		t.Errorf("valid variables reported:\n%s", msgs)
	}
}

// ---------------------------------------------------------------------------
// Flux queries of the Grafana dashboards.

// schemaTags are the tags of docs/influxdb-schema.md; fields and columns of Flux
// tables complete what a query may name.
var (
	schemaTags    = []string{"site", "device", "quantity", "unit", "mission"}
	schemaFields  = []string{"value", "text", "flag", "sum"}
	fluxColumns   = []string{"_measurement", "_field", "_value", "_time", "_start", "_stop"}
	rFieldRe      = regexp.MustCompile(`\br\.([A-Za-z_][A-Za-z0-9_]*)|\br\["([^"]*)"\]`)
	colListRe     = regexp.MustCompile(`\b(?:columns|rowKey|columnKey)\s*:\s*\[([^\]]*)\]`)
	tagArgRe      = regexp.MustCompile(`\b(?:tag|column|columnKey|valueColumn)\s*:\s*"([^"]*)"`)
	quotedRe      = regexp.MustCompile(`"([^"]*)"`)
	measurementRe = regexp.MustCompile(`r\._measurement\s*==\s*"([^"]*)"`)
	fieldEqRe     = regexp.MustCompile(`r\._field\s*==\s*"([^"]*)"`)
	quantityEqRe  = regexp.MustCompile(`r\.quantity\s*==\s*"([^"]*)"`)
)

// checkFlux returns what a Flux query names outside the schema.
func checkFlux(q string) []string {
	allowed := map[string]bool{}
	for _, l := range [][]string{schemaTags, fluxColumns} {
		for _, s := range l {
			allowed[s] = true
		}
	}
	// a pivot on quantity makes the filtered quantities columns
	pivoted := map[string]bool{}
	for _, m := range quantityEqRe.FindAllStringSubmatch(q, -1) {
		pivoted[m[1]] = true
	}
	var bad []string
	for _, m := range rFieldRe.FindAllStringSubmatch(q, -1) {
		n := m[1] + m[2]
		if !allowed[n] {
			bad = append(bad, "r."+n)
		}
	}
	for _, m := range colListRe.FindAllStringSubmatch(q, -1) {
		for _, c := range quotedRe.FindAllStringSubmatch(m[1], -1) {
			if !allowed[c[1]] && !pivoted[c[1]] {
				bad = append(bad, "column "+c[1])
			}
		}
	}
	for _, m := range tagArgRe.FindAllStringSubmatch(q, -1) {
		if !allowed[m[1]] {
			bad = append(bad, "column "+m[1])
		}
	}
	ms := measurementRe.FindAllStringSubmatch(q, -1)
	if len(ms) == 0 {
		bad = append(bad, `no r._measurement == "telemetry" filter`)
	}
	for _, m := range ms {
		if m[1] != "telemetry" {
			bad = append(bad, "measurement "+m[1])
		}
	}
	for _, m := range fieldEqRe.FindAllStringSubmatch(q, -1) {
		ok := false
		for _, f := range schemaFields {
			ok = ok || m[1] == f
		}
		if !ok {
			bad = append(bad, "field "+m[1])
		}
	}
	return bad
}

// fluxQueries returns the Flux strings of a Grafana dashboard: target queries
// and template-variable queries of the InfluxDB datasource.
func fluxQueries(v any, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && (k == "query" || k == "definition") &&
				(strings.Contains(s, "from(") || strings.Contains(s, "schema.") || strings.Contains(s, "|>")) {
				fn(s)
				continue
			}
			fluxQueries(e, fn)
		}
	case []any:
		for _, e := range v {
			fluxQueries(e, fn)
		}
	}
}

func TestGrafanaFlux(t *testing.T) {
	n := 0
	for _, f := range loadFiles(t) {
		if !strings.HasPrefix(f.rel, "dashboards/grafana/") || !strings.HasSuffix(f.rel, ".json") {
			continue
		}
		for _, d := range f.docs {
			fluxQueries(d, func(q string) {
				n++
				if bad := checkFlux(q); len(bad) > 0 {
					t.Errorf("%s: Flux query names %s outside docs/influxdb-schema.md:\n%s", f.rel, strings.Join(bad, ", "), q)
				}
			})
		}
	}
	if n < 4 {
		t.Errorf("found %d Flux queries in dashboards/grafana, want the site, series, track and variable queries", n)
	}
	t.Logf("%d Flux queries checked", n)

	for q, want := range map[string]string{
		`from(bucket: "b") |> range(start: -1h) |> filter(fn: (r) => r._measurement == "telemetry" and r.host == "x")`: "r.host",
		`from(bucket: "b") |> filter(fn: (r) => r._measurement == "cpu")`:                                              "measurement cpu",
		`from(bucket: "b") |> filter(fn: (r) => r._measurement == "telemetry") |> group(columns: ["sensor"])`:          "column sensor",
		`from(bucket: "b") |> filter(fn: (r) => r["location"] == "x")`:                                                 "r.location",
		`from(bucket: "b") |> filter(fn: (r) => r._measurement == "telemetry" and r._field == "temperature")`:          "field temperature",
		`import "influxdata/influxdb/schema" schema.tagValues(bucket: "b", tag: "host")`:                               "column host",
	} {
		if bad := fmt.Sprint(checkFlux(q)); !strings.Contains(bad, want) {
			t.Errorf("checkFlux(%q) = %s, want it to report %s", q, bad, want)
		}
	}
}

// TestGrafanaDatasources: every datasource uid a dashboard uses is provisioned.
func TestGrafanaDatasources(t *testing.T) {
	uids := map[string]bool{}
	files := loadFiles(t)
	for _, f := range files {
		if !strings.HasPrefix(f.rel, "dashboards/grafana/provisioning/datasources/") {
			continue
		}
		for _, d := range f.docs {
			for _, ds := range list(d.(map[string]any)["datasources"]) {
				if u, _ := ds.(map[string]any)["uid"].(string); u != "" {
					uids[u] = true
				}
			}
		}
	}
	if len(uids) == 0 {
		t.Fatal("no provisioned datasource")
	}
	for _, f := range files {
		if !strings.HasPrefix(f.rel, "dashboards/grafana/dashboards/") {
			continue
		}
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if ds, ok := v["datasource"].(map[string]any); ok {
					if u, _ := ds["uid"].(string); u != "" && !strings.HasPrefix(u, "$") && !uids[u] {
						t.Errorf("%s: datasource uid %q is not provisioned (%v)", f.rel, u, sorted(uids))
					}
				}
				for _, e := range v {
					walk(e)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		for _, d := range f.docs {
			walk(d)
		}
	}
}

// TestGrafanaMetrics: the Prometheus expressions name metrics the code exports.
func TestGrafanaMetrics(t *testing.T) {
	r := root(t)
	known := map[string]bool{}
	for src, prefix := range map[string]string{"ingest/metrics.go": "smartdeal_ingest_", "devices/gateway/metrics.go": "smartdeal_gateway_"} {
		b, err := os.ReadFile(filepath.Join(r, src))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`(?:Name:\s*(?:ns\s*\+\s*)?|gauge\(|counter\()"([a-z0-9_]+)"`).FindAllSubmatch(b, -1) {
			known[prefix+strings.TrimPrefix(string(m[1]), prefix)] = true
		}
	}
	if !known["smartdeal_ingest_unacked_messages"] || !known["smartdeal_gateway_spool_depth"] {
		t.Fatalf("metric names not found in the sources: %v", sorted(known))
	}
	metricRe := regexp.MustCompile(`\bsmartdeal_[a-z0-9_]+`)
	n := 0
	for _, f := range loadFiles(t) {
		if !strings.HasPrefix(f.rel, "dashboards/grafana/dashboards/") {
			continue
		}
		for _, d := range f.docs {
			walkStrings(d, func(s string) {
				if !strings.Contains(s, "smartdeal_") || strings.Contains(s, "|>") {
					return
				}
				for _, m := range metricRe.FindAllString(s, -1) {
					n++
					base := m
					for _, suf := range []string{"_bucket", "_sum", "_count"} {
						if b := strings.TrimSuffix(m, suf); b != m && known[b] {
							base = b
						}
					}
					if !known[base] {
						t.Errorf("%s: metric %s is not exported by ingest or the gateway", f.rel, m)
					}
				}
			})
		}
	}
	if n == 0 {
		t.Error("no smartdeal_ metric in the dashboards")
	}
}

// ---------------------------------------------------------------------------
// Broker configuration copies, gateway configs, compose mounts.

// confDirectives reads a mosquitto.conf: directive → values in order.
func confDirectives(t *testing.T, p string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		out[k] = append(out[k], strings.Join(strings.Fields(v), " "))
	}
	return out
}

func TestBrokerConfigCopies(t *testing.T) {
	r := root(t)
	shipped := confDirectives(t, filepath.Join(r, "deploy/mosquitto/mosquitto.conf"))
	compose := confDirectives(t, filepath.Join(r, "deploy/compose/mosquitto/mosquitto.conf"))
	// what a container needs to differ in (paths, listeners, logging)
	local := map[string]bool{"listener": true, "certfile": true, "keyfile": true, "cafile": true, "tls_version": true,
		"password_file": true, "acl_file": true, "persistence_location": true, "log_dest": true}
	for k, v := range shipped {
		if local[k] {
			continue
		}
		if !reflect.DeepEqual(v, compose[k]) {
			t.Errorf("deploy/compose/mosquitto/mosquitto.conf: %s = %q, deploy/mosquitto has %q", k, compose[k], v)
		}
	}
	for k := range compose {
		if _, ok := shipped[k]; !ok && !local[k] {
			t.Errorf("deploy/compose/mosquitto/mosquitto.conf: %s is not in deploy/mosquitto/mosquitto.conf", k)
		}
	}
	window := shipped["max_inflight_messages"]
	if len(window) != 1 {
		t.Fatalf("deploy/mosquitto/mosquitto.conf: max_inflight_messages %q", window)
	}
	// ingest.max_inflight must equal the broker's window wherever it is set
	for _, f := range loadFiles(t) {
		for _, d := range f.docs {
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case map[string]any:
					for k, e := range v {
						if k == "SMARTDEAL_INGEST_MAX_INFLIGHT" && fmt.Sprint(e) != window[0] {
							t.Errorf("%s: SMARTDEAL_INGEST_MAX_INFLIGHT %v ≠ the broker's max_inflight_messages %s", f.rel, e, window[0])
						}
						walk(e)
					}
				case []any:
					for _, e := range v {
						walk(e)
					}
				}
			}
			walk(d)
		}
	}

	// The compose ACL starts with the shipped one, line for line.
	acl := func(p string) []string {
		b, err := os.ReadFile(filepath.Join(r, p))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.Join(strings.Fields(l), " "); l != "" && !strings.HasPrefix(l, "#") {
				out = append(out, l)
			}
		}
		return out
	}
	want, got := acl("deploy/mosquitto/smartdeal.acl"), acl("deploy/compose/mosquitto/smartdeal.acl")
	if len(got) < len(want) || !reflect.DeepEqual(got[:len(want)], want) {
		t.Errorf("deploy/compose/mosquitto/smartdeal.acl does not start with deploy/mosquitto/smartdeal.acl's rules:\nwant prefix %q\ngot %q", want, got)
	}
}

func TestGatewayConfigs(t *testing.T) {
	r := root(t)
	for _, p := range []string{"deploy/compose/gateway/gateway.yaml", "deploy/gateway/gateway.example.yaml"} {
		b, err := os.ReadFile(filepath.Join(r, p))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := gateway.DecodeConfig(b)
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestComposeMounts: every file or directory the compose file mounts exists.
func TestComposeMounts(t *testing.T) {
	r := root(t)
	for _, f := range loadFiles(t) {
		if !strings.HasPrefix(f.rel, "deploy/compose/") {
			continue
		}
		for _, d := range f.docs {
			svcs, _ := d.(map[string]any)["services"].(map[string]any)
			for name, sv := range svcs {
				for _, v := range list(sv.(map[string]any)["volumes"]) {
					s, _ := v.(string)
					src, _, _ := strings.Cut(s, ":")
					if !strings.HasPrefix(src, ".") {
						continue // named volume
					}
					p := filepath.Join(r, filepath.Dir(f.rel), src)
					if _, err := os.Stat(p); err != nil {
						t.Errorf("%s: service %s mounts %s: %v", f.rel, name, src, err)
					}
				}
			}
		}
	}
}

// TestK8sWorkloads: the ingest is a StatefulSet whose pods use their own
// (stable) name as MQTT client id; every SMART Deal container has its probes
// on /healthz and /readyz and resource requests; every workload has a
// PodDisruptionBudget.
func TestK8sWorkloads(t *testing.T) {
	var workloads []map[string]any
	pdbs := map[string]bool{} // selector app.kubernetes.io/name
	for _, f := range loadFiles(t) {
		if !strings.HasPrefix(f.rel, "deploy/k8s/") {
			continue
		}
		for _, d := range f.docs {
			m, _ := d.(map[string]any)
			switch m["kind"] {
			case "Deployment", "StatefulSet":
				workloads = append(workloads, m)
			case "PodDisruptionBudget":
				if n, _ := mapAt(mapAt(mapAt(m, "spec"), "selector"), "matchLabels")["app.kubernetes.io/name"].(string); n != "" {
					pdbs[n] = true
				}
			}
		}
	}
	progs := map[string]string{}
	for _, w := range workloads {
		name, _ := mapAt(w, "metadata")["name"].(string)
		label, _ := mapAt(mapAt(mapAt(w, "spec"), "selector"), "matchLabels")["app.kubernetes.io/name"].(string)
		if !pdbs[label] {
			t.Errorf("%s %s: no PodDisruptionBudget selects app.kubernetes.io/name=%s", w["kind"], name, label)
		}
		for _, pod := range podSpecs(w) {
			for _, c := range containers(pod) {
				prog := programOf(c["command"], c["args"])
				if prog == "" {
					continue
				}
				progs[prog] = fmt.Sprint(w["kind"])
				where := fmt.Sprintf("%s %s container %v", w["kind"], name, c["name"])
				for probe, want := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
					if got := mapAt(mapAt(c, probe), "httpGet")["path"]; got != want {
						t.Errorf("%s: %s path %v, want %s", where, probe, got, want)
					}
				}
				req := mapAt(mapAt(c, "resources"), "requests")
				if req["cpu"] == nil || req["memory"] == nil {
					t.Errorf("%s: no cpu and memory requests", where)
				}
				if prog != "ingest" {
					continue
				}
				fromPodName := false
				for _, e := range list(c["env"]) {
					em, _ := e.(map[string]any)
					if em["name"] == "SMARTDEAL_MQTT_CLIENT_ID" &&
						mapAt(mapAt(em, "valueFrom"), "fieldRef")["fieldPath"] == "metadata.name" {
						fromPodName = true
					}
				}
				if !fromPodName {
					t.Errorf("%s: SMARTDEAL_MQTT_CLIENT_ID must come from metadata.name (stable per StatefulSet pod)", where)
				}
			}
		}
	}
	if progs["ingest"] != "StatefulSet" {
		t.Errorf("ingest runs in a %q, want a StatefulSet (stable MQTT client ids)", progs["ingest"])
	}
	if progs["api"] == "" {
		t.Error("no api workload in deploy/k8s")
	}
}
