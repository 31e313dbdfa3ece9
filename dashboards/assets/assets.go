// Package assets holds the map's front end, embedded in the binary so that
// no page loads anything from a CDN: Leaflet and Leaflet.markercluster
// (pinned in package.json and package-lock.json, copied into static/vendor
// by `make assets`), the map's own map.js and map.css, the offline base
// map of the Alpes-Maritimes (static/basemap-06.geojson) and the commune
// gazetteer (static/communes-06.json), both derived by cmd/basemap.
//
// Handler serves them with their content type, an ETag, gzip when the
// client takes it, and a year of caching for a URL that carries the file's
// content hash (URL gives it), so a new release is fetched at once and an
// unchanged file never again. It is a plain http.Handler: the web layer
// mounts it under a prefix (e.g. /static/) with http.StripPrefix.
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed static
var embedded embed.FS

//go:embed package.json
var packageJSON []byte

// MapScripts and MapStyles are what a map page loads, in order (paths
// relative to the handler's root); TestBudget keeps their gzip size under
// MapBudget.
var (
	MapScripts = []string{"vendor/leaflet/leaflet.js", "vendor/markercluster/leaflet.markercluster.js", "map.js"}
	MapStyles  = []string{"vendor/leaflet/leaflet.css", "vendor/markercluster/MarkerCluster.css", "vendor/markercluster/MarkerCluster.Default.css", "map.css"}
)

// MissionModule is the mission pages' module (drawing an area, the live
// view of a flight), loaded after MapScripts' Leaflet; TestBudget counts it.
const MissionModule = "mission.js"

// MapBudget bounds the gzip size of MapScripts and MapStyles together.
const MapBudget = 200 << 10

// BaseMap and Gazetteer are the offline base map and the commune
// gazetteer (paths relative to the handler's root).
const (
	BaseMap   = "basemap-06.geojson"
	Gazetteer = "communes-06.json"
)

// FS is the embedded files, rooted at the handler's root.
func FS() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// Versions are the versions package.json pins (package → version).
func Versions() map[string]string {
	var p struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(packageJSON, &p); err != nil {
		panic("assets: package.json: " + err.Error()) // embedded: the package's test reads it
	}
	return p.Dependencies
}

// file is one embedded file, read once.
type file struct {
	body, gz []byte
	hash     string // the first 12 hex digits of its SHA-256
	ctype    string
}

var (
	loadOnce sync.Once
	files    map[string]*file
)

// contentTypes are the types of the extensions shipped (mime's table
// depends on the host's).
var contentTypes = map[string]string{
	".js":      "text/javascript; charset=utf-8",
	".css":     "text/css; charset=utf-8",
	".geojson": "application/geo+json",
	".json":    "application/json",
	".png":     "image/png",
	".svg":     "image/svg+xml",
	".txt":     "text/plain; charset=utf-8",
	".html":    "text/html; charset=utf-8",
}

func load() {
	files = map[string]*file{}
	root := FS()
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(body)
		f := &file{body: body, hash: hex.EncodeToString(h[:])[:12], ctype: contentTypes[path.Ext(p)]}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if !strings.HasPrefix(f.ctype, "image/png") {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if b.Len() < len(body) {
				f.gz = b.Bytes()
			}
		}
		files[p] = f
		return nil
	})
	if err != nil {
		panic("assets: " + err.Error()) // embedded files: cannot fail
	}
}

func lookup(name string) *file {
	loadOnce.Do(load)
	return files[strings.TrimPrefix(name, "/")]
}

// URL is name's path with its content hash (name?v=hash), relative to the
// handler's root: prefix it with where the handler is mounted. An unknown
// name panics: a template naming a file that is not shipped is a bug the
// first render shows.
func URL(name string) string {
	f := lookup(name)
	if f == nil {
		panic(fmt.Sprintf("assets: no file %q", name))
	}
	return name + "?v=" + f.hash
}

// GzipSize is the size of name compressed as Handler sends it (its size
// when it is sent as it is), 0 for an unknown name.
func GzipSize(name string) int {
	f := lookup(name)
	switch {
	case f == nil:
		return 0
	case f.gz != nil:
		return len(f.gz)
	}
	return len(f.body)
}

// Handler serves the embedded files: GET and HEAD only, the content type of
// the extension, ETag and If-None-Match, gzip when accepted; with ?v= equal
// to the file's hash, a year's immutable caching, else revalidation
// (no-cache). Directories and unknown names are 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		f := lookup(path.Clean("/" + r.URL.Path))
		if f == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Vary", "Accept-Encoding")
		etag := `"` + f.hash + `"`
		h.Set("ETag", etag)
		if v := r.URL.Query().Get("v"); v == f.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := f.body
		if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body = f.gz
		}
		h.Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip, unless given q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
