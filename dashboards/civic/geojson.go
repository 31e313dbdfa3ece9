package civic

import (
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// MaxPolygonVertices bounds the size of a mission area.
const MaxPolygonVertices = 10000

// ValidatePolygon checks that raw is a valid GeoJSON Polygon (RFC 7946 §3.1.6,
// and the OGC simple-features rules for a valid polygon), or a Feature whose
// geometry is one. orb (github.com/paulmach/orb/geojson) decodes it; the
// checks orb does not make are made here, and each refusal is an EINVALID
// FieldError on "area" that names the problem:
//
//   - members: only type, coordinates and bbox (a Feature: type, geometry,
//     properties, id and bbox) — a misspelt member is a mistake, not data;
//   - positions: [lon, lat] or [lon, lat, alt], finite numbers, longitude in
//     [-180, 180] and latitude in [-90, 90];
//   - rings: at least four positions, closed (last = first), with an area,
//     at most MaxPolygonVertices positions in all;
//   - simple: no ring crosses or touches itself (a spike that turns back on
//     its own edge included), and no two rings cross or touch;
//   - holes: each lies inside the exterior ring and outside the other holes.
//
// Either winding order is accepted (RFC 7946 asks parsers not to refuse the
// other one).
func ValidatePolygon(raw json.RawMessage) error {
	return validateArea(raw, true)
}

var (
	geometryMembers = map[string]bool{"type": true, "coordinates": true, "bbox": true}
	featureMembers  = map[string]bool{"type": true, "geometry": true, "properties": true, "id": true, "bbox": true}
)

func validateArea(raw json.RawMessage, featureOK bool) error {
	if len(raw) == 0 {
		return FieldError("area", "required (GeoJSON Polygon)")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return FieldError("area", "not a GeoJSON object")
	}
	var typ string
	if err := json.Unmarshal(members["type"], &typ); err != nil {
		return FieldError("area", "the member \"type\" is required and must be a string")
	}
	feature := typ == "Feature" && featureOK
	if typ != "Polygon" && !feature {
		return FieldError("area", "type must be \"Polygon\", got %q", truncate(typ, 40))
	}
	allowed := geometryMembers
	if feature {
		allowed = featureMembers
	}
	for _, k := range sortedKeys(members) {
		if !allowed[k] {
			return FieldError("area", "unknown member %q in a %s", truncate(k, 40), typ)
		}
	}
	if feature {
		g, ok := members["geometry"]
		if !ok || string(g) == "null" {
			return FieldError("area", "the Feature has no geometry")
		}
		return validateArea(g, false)
	}
	if err := checkPositions(members["coordinates"]); err != nil {
		return err
	}
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return FieldError("area", "not a GeoJSON Polygon: %s", jsonErrText(err))
	}
	p, ok := g.Geometry().(orb.Polygon)
	if !ok {
		return FieldError("area", "type must be \"Polygon\"")
	}
	return checkPolygon(p)
}

// checkPositions reads the coordinates' shape, which orb does not check: its
// Point is [2]float64, so [7.2] would read as [7.2, 0] and a fourth
// coordinate would be dropped.
func checkPositions(raw json.RawMessage) error {
	if len(raw) == 0 {
		return FieldError("area", "the member \"coordinates\" is required")
	}
	var rings [][][]float64
	if err := json.Unmarshal(raw, &rings); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && strings.HasPrefix(te.Value, "number") {
			return FieldError("area", "a coordinate is not a finite number")
		}
		return FieldError("area", "coordinates must be an array of rings, each an array of [lon, lat] positions")
	}
	for i, ring := range rings {
		for j, pos := range ring {
			if len(pos) < 2 || len(pos) > 3 {
				return FieldError("area", "ring %d position %d has %d coordinates: want [lon, lat] or [lon, lat, alt]", i, j, len(pos))
			}
			for _, v := range pos {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return FieldError("area", "ring %d position %d: a coordinate is not a finite number", i, j)
				}
			}
		}
	}
	return nil
}

func checkPolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return FieldError("area", "a polygon needs an exterior ring")
	}
	n := 0
	rings := make([]orb.Ring, len(p)) // without repeated consecutive positions
	orig := make([][]int, len(p))     // their indexes in the input
	for i, ring := range p {
		if len(ring) < 4 {
			return FieldError("area", "ring %d has %d positions, needs at least 4", i, len(ring))
		}
		if n += len(ring); n > MaxPolygonVertices {
			return FieldError("area", "more than %d positions", MaxPolygonVertices)
		}
		for j, pt := range ring {
			if !(pt[0] >= -180 && pt[0] <= 180) || !(pt[1] >= -90 && pt[1] <= 90) {
				return FieldError("area", "ring %d position %d is out of range: longitude must be in [-180, 180] and latitude in [-90, 90]", i, j)
			}
		}
		if !ring.Closed() {
			return FieldError("area", "ring %d is not closed (its first and last positions differ)", i)
		}
		for j, pt := range ring {
			if j == 0 || !pt.Equal(ring[j-1]) {
				rings[i], orig[i] = append(rings[i], pt), append(orig[i], j)
			}
		}
		if len(rings[i]) < 4 {
			return FieldError("area", "ring %d has no area", i)
		}
	}
	if err := checkSimple(rings, orig); err != nil {
		return err
	}
	for i, ring := range rings {
		if ring.Orientation() == 0 { // simple, so zero only when flat
			return FieldError("area", "ring %d has no area", i)
		}
	}
	for i := 1; i < len(rings); i++ {
		// No ring touches another, so one position tells where a hole lies.
		if !planar.RingContains(rings[0], rings[i][0]) {
			return FieldError("area", "ring %d (a hole) lies outside the exterior ring", i)
		}
		for j := 1; j < len(rings); j++ {
			if j != i && planar.RingContains(rings[j], rings[i][0]) {
				return FieldError("area", "ring %d (a hole) lies inside ring %d, another hole", i, j)
			}
		}
	}
	return nil
}

// edge is a ring's segment from position i to i+1.
type edge struct {
	a, b                   orb.Point
	ring, i                int
	minX, maxX, minY, maxY float64
}

// checkSimple refuses rings that cross or touch themselves or each other. The
// edges are sorted by their least longitude and each is compared with those
// that overlap it in longitude only (a sweep), so a usual area costs about
// n log n; the worst case, every edge overlapping every other, is n².
func checkSimple(rings []orb.Ring, orig [][]int) error {
	var edges []edge
	for r, ring := range rings {
		m := len(ring) - 1 // edges; the ring is closed
		for i := range m {
			a, b := ring[i], ring[i+1]
			edges = append(edges, edge{a: a, b: b, ring: r, i: i, minX: math.Min(a[0], b[0]), maxX: math.Max(a[0], b[0]),
				minY: math.Min(a[1], b[1]), maxY: math.Max(a[1], b[1])})
			// Consecutive edges share a position; they must not fold back
			// over each other (a spike).
			next := ring[(i+2)%len(ring)]
			if i+2 == len(ring) {
				next = ring[1]
			}
			if orient(a, b, next) == 0 && dot(a[0]-b[0], a[1]-b[1], next[0]-b[0], next[1]-b[1]) > 0 {
				return FieldError("area", "ring %d turns back on itself at position %d", r, orig[r][(i+1)%m])
			}
		}
	}
	sort.Slice(edges, func(i, j int) bool { return edges[i].minX < edges[j].minX })
	for i := range edges {
		e := &edges[i]
		for j := i + 1; j < len(edges) && edges[j].minX <= e.maxX; j++ {
			f := &edges[j]
			if f.minY > e.maxY || f.maxY < e.minY || (e.ring == f.ring && adjacent(e.i, f.i, len(rings[e.ring])-1)) {
				continue
			}
			if !segmentsMeet(e.a, e.b, f.a, f.b) {
				continue
			}
			if e.ring == f.ring {
				lo, hi := min(e.i, f.i), max(e.i, f.i)
				return FieldError("area", "ring %d intersects itself (its edges from positions %d and %d meet)", e.ring, orig[e.ring][lo], orig[e.ring][hi])
			}
			return FieldError("area", "rings %d and %d intersect", min(e.ring, f.ring), max(e.ring, f.ring))
		}
	}
	return nil
}

// adjacent reports whether edges i and j of a ring of m edges share a position.
func adjacent(i, j, m int) bool {
	d := i - j
	return d == 1 || d == -1 || d == m-1 || d == 1-m
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func dot(ax, ay, bx, by float64) float64 { return ax*bx + ay*by }

// within reports whether p, collinear with a and b, lies on the segment ab.
func within(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsMeet reports whether the closed segments ab and cd share a point.
func segmentsMeet(a, b, c, d orb.Point) bool {
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && within(c, d, a)) || (d2 == 0 && within(c, d, b)) ||
		(d3 == 0 && within(a, b, c)) || (d4 == 0 && within(a, b, d))
}

func sortedKeys(m map[string]json.RawMessage) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
