package civic_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// TestValidatePolygonHostile: shapes that are not valid polygons are refused
// with a message naming the problem; valid ones (holes, altitude, either
// winding, a Feature) pass.
func TestValidatePolygonHostile(t *testing.T) {
	const shell = `[[7.0,43.0],[8.0,43.0],[8.0,44.0],[7.0,44.0],[7.0,43.0]]`
	poly := func(rings ...string) string {
		return `{"type":"Polygon","coordinates":[` + strings.Join(rings, ",") + `]}`
	}
	many := make([]string, 0, civic.MaxPolygonVertices+2)
	for i := range civic.MaxPolygonVertices + 1 {
		many = append(many, fmt.Sprintf("[%g,43.5]", 7+float64(i)/1e5))
	}
	many = append(many, "[7.5,44]", "[7,43.5]")
	for _, tc := range []struct {
		name, area, want string // want: "" for valid, else a part of the message
	}{
		{"square", poly(shell), ""},
		{"clockwise", poly(`[[7.0,43.0],[7.0,44.0],[8.0,44.0],[8.0,43.0],[7.0,43.0]]`), ""},
		{"with altitude", poly(`[[7.0,43.0,10],[8.0,43.0,10],[8.0,44.0,12],[7.0,43.0,10]]`), ""},
		{"with a hole", poly(shell, `[[7.2,43.2],[7.4,43.2],[7.4,43.4],[7.2,43.2]]`), ""},
		{"two holes", poly(shell, `[[7.2,43.2],[7.4,43.2],[7.4,43.4],[7.2,43.2]]`, `[[7.6,43.6],[7.8,43.6],[7.8,43.8],[7.6,43.6]]`), ""},
		{"repeated position", poly(`[[7.0,43.0],[8.0,43.0],[8.0,43.0],[8.0,44.0],[7.0,43.0]]`), ""},
		{"feature", `{"type":"Feature","properties":{"nom":"Var"},"geometry":` + poly(shell) + `}`, ""},
		{"bbox", `{"type":"Polygon","bbox":[7,43,8,44],"coordinates":[` + shell + `]}`, ""},

		{"bow tie", poly(`[[7.0,43.0],[8.0,44.0],[8.0,43.0],[7.0,44.0],[7.0,43.0]]`), "ring 0 intersects itself"},
		{"figure eight through a vertex", poly(`[[7.0,43.0],[7.5,43.5],[8.0,43.0],[8.0,44.0],[7.5,43.5],[7.0,44.0],[7.0,43.0]]`), "ring 0 intersects itself"},
		{"spike", poly(`[[7.0,43.0],[8.0,43.0],[9.0,43.0],[8.0,43.0],[8.0,44.0],[7.0,43.0]]`), "turns back on itself"},
		{"edge back over the start", poly(`[[7.0,43.0],[8.0,43.0],[8.0,44.0],[7.0,44.0],[7.0,42.0],[7.0,43.0]]`), "turns back on itself"},
		{"hole outside its shell", poly(shell, `[[9.2,43.2],[9.4,43.2],[9.4,43.4],[9.2,43.2]]`), "ring 1 (a hole) lies outside the exterior ring"},
		{"hole crossing its shell", poly(shell, `[[7.5,43.5],[8.5,43.5],[8.5,43.7],[7.5,43.5]]`), "rings 0 and 1 intersect"},
		{"hole touching its shell", poly(shell, `[[7.0,43.5],[7.4,43.2],[7.4,43.8],[7.0,43.5]]`), "rings 0 and 1 intersect"},
		{"hole in a hole", poly(shell, `[[7.1,43.1],[7.9,43.1],[7.9,43.9],[7.1,43.1]]`, `[[7.6,43.2],[7.8,43.2],[7.8,43.4],[7.6,43.2]]`), "ring 2 (a hole) lies inside ring 1"},
		{"unknown member", `{"type":"Polygon","coordinates":[` + shell + `],"crs":{"type":"name"}}`, `unknown member "crs"`},
		{"misspelt member", `{"type":"Polygon","coordinate":[` + shell + `]}`, `unknown member "coordinate"`},
		{"unknown feature member", `{"type":"Feature","geometry":` + poly(shell) + `,"style":"red"}`, `unknown member "style"`},
		{"feature in a feature", `{"type":"Feature","geometry":{"type":"Feature","geometry":` + poly(shell) + `}}`, `type must be "Polygon"`},
		{"feature without geometry", `{"type":"Feature","geometry":null}`, "no geometry"},
		{"unclosed ring", poly(`[[7.0,43.0],[8.0,43.0],[8.0,44.0],[7.0,44.0]]`), "ring 0 is not closed"},
		{"unclosed hole", poly(shell, `[[7.2,43.2],[7.4,43.2],[7.4,43.4],[7.3,43.4]]`), "ring 1 is not closed"},
		{"three positions", poly(`[[7.0,43.0],[8.0,43.0],[7.0,43.0]]`), "ring 0 has 3 positions, needs at least 4"},
		{"no ring", `{"type":"Polygon","coordinates":[]}`, "needs an exterior ring"},
		{"no coordinates", `{"type":"Polygon"}`, `"coordinates" is required`},
		{"empty ring", poly(`[]`), "ring 0 has 0 positions"},
		{"flat", poly(`[[7.0,43.0],[7.5,43.0],[8.0,43.0],[7.0,43.0]]`), "turns back on itself"},
		{"one point four times", poly(`[[7.0,43.0],[7.0,43.0],[7.0,43.0],[7.0,43.0]]`), "has no area"},
		{"infinite coordinate", poly(`[[7.0,43.0],[1e999,43.0],[8.0,44.0],[7.0,43.0]]`), "not a finite number"},
		{"string coordinate", poly(`[[7.0,43.0],["8",43.0],[8.0,44.0],[7.0,43.0]]`), "coordinates must be an array"},
		{"one coordinate", poly(`[[7.0],[8.0,43.0],[8.0,44.0],[7.0]]`), "position 0 has 1 coordinates"},
		{"four coordinates", poly(`[[7.0,43.0,1,2],[8.0,43.0],[8.0,44.0],[7.0,43.0,1,2]]`), "position 0 has 4 coordinates"},
		{"latitude 93", poly(`[[7.0,93.0],[8.0,43.0],[8.0,44.0],[7.0,93.0]]`), "ring 0 position 0 is out of range"},
		{"longitude -181", poly(`[[7.0,43.0],[-181.0,43.0],[8.0,44.0],[7.0,43.0]]`), "ring 0 position 1 is out of range"},
		{"too many positions", poly("[" + strings.Join(many, ",") + "]"), "more than 10000 positions"},
		{"point", `{"type":"Point","coordinates":[7.2,43.6]}`, `type must be "Polygon", got "Point"`},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[` + shell + `]]}`, `type must be "Polygon"`},
		{"no type", `{"coordinates":[` + shell + `]}`, `"type" is required`},
		{"numeric type", `{"type":5,"coordinates":[` + shell + `]}`, `"type" is required`},
		{"null", `null`, "not a GeoJSON object"},
		{"array", `[]`, "not a GeoJSON object"},
		{"empty", ``, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := civic.ValidatePolygon(json.RawMessage(tc.area))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *civic.Error
			if err == nil || civic.ErrorCode(err) != civic.EINVALID {
				t.Fatalf("accepted or wrong code: %v", err)
			}
			ce, _ = err.(*civic.Error)
			if ce.Extra["field"] != "area" || !strings.Contains(ce.Message, tc.want) {
				t.Fatalf("message %q, want it to contain %q (field %v)", ce.Message, tc.want, ce.Extra["field"])
			}
		})
	}
}
