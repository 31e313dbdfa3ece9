package pages

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

const square = `{"type":"Polygon","coordinates":[[[7.2,43.65],[7.21,43.65],[7.21,43.66],[7.2,43.65]]]}`

func form(kv ...string) planForm {
	f := planForm{values: map[string][]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "file" {
			f.file = kv[i+1]
			continue
		}
		f.values[kv[i]] = append(f.values[kv[i]], kv[i+1])
	}
	return f
}

// TestAreaOf: the file wins over the pasted text, the text over the
// drawing; a Feature and a one-feature FeatureCollection give their
// geometry; what is not JSON is refused on the area field.
func TestAreaOf(t *testing.T) {
	feature := `{"type":"Feature","properties":{},"geometry":` + square + `}`
	for _, tc := range []struct {
		name string
		f    planForm
		want string // "" for a refusal
	}{
		{"drawn", form("area_drawn", square), square},
		{"pasted over drawn", form("area", feature, "area_drawn", `{"type":"Polygon","coordinates":[]}`), square},
		{"file over pasted", form("file", `{"type":"FeatureCollection","features":[`+feature+`]}`, "area", "junk"), square},
		{"blank file", form("file", "  ", "area", square), square},
		{"two features", form("area", `{"type":"FeatureCollection","features":[`+feature+`,`+feature+`]}`), ""},
		{"a feature without geometry", form("area", `{"type":"FeatureCollection","features":[{}]}`), ""},
		{"nothing", form(), ""},
		{"not json", form("area", "POLYGON((7 43))"), ""},
	} {
		got, err := areaOf(tc.f)
		switch {
		case tc.want == "" && (err == nil || errorField(err) != "area"):
			t.Errorf("%s: %s, %v: want a refusal on area", tc.name, got, err)
		case tc.want != "" && (err != nil || !strings.HasPrefix(compact(t, got), compact(t, []byte(tc.want))[:min(len(tc.want), 27)])):
			t.Errorf("%s: %s, %v: want %s", tc.name, got, err, tc.want)
		}
	}
}

func compact(t *testing.T, b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

// TestParseLocal: datetime-local values are Paris time (winter and summer).
func TestParseLocal(t *testing.T) {
	for in, want := range map[string]string{
		"2026-12-06T14:30":    "2026-12-06T13:30:00Z",
		"2026-07-14T09:00:05": "2026-07-14T07:00:05Z",
		" 2026-07-14 09:00 ":  "2026-07-14T07:00:00Z",
	} {
		got, err := parseLocal("planned_from", in)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
		if back := localValue(got); !strings.HasPrefix(strings.Replace(strings.TrimSpace(in), " ", "T", 1), back) {
			t.Errorf("%q: written back as %q", in, back)
		}
	}
	for _, bad := range []string{"", "demain", "2026-13-01T10:00", "2026-12-06", "14:30"} {
		if _, err := parseLocal("planned_to", bad); errorField(err) != "planned_to" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzAreaOf: any text is refused on the area field or returned as JSON
// for civic's polygon rule; never a panic.
func FuzzAreaOf(f *testing.F) {
	f.Add(square, "", "")
	f.Add(`{"type":"Feature","geometry":null}`, "x", "")
	f.Add(`{"type":"FeatureCollection","features":[{"geometry":{}}]}`, "", square)
	f.Fuzz(func(t *testing.T, file, pasted, drawn string) {
		got, err := areaOf(form("file", file, "area", pasted, "area_drawn", drawn))
		if err != nil {
			if errorField(err) != "area" {
				t.Fatalf("refusal %v not on area", err)
			}
			return
		}
		if !json.Valid(got) {
			t.Fatalf("area %q is not JSON", got)
		}
		_ = civic.ValidatePolygon(got) // the domain's rule takes anything
	})
}

// errorField is the field a civic field error names ("" for another error).
func errorField(err error) string {
	var ce *civic.Error
	if errors.As(err, &ce) {
		f, _ := ce.Extra["field"].(string)
		return f
	}
	return ""
}

type reader struct {
	io.Reader
	over bool
}

func (r *reader) Over() bool { return r.over }

// FuzzFilePart: any multipart body gives the fichier part, a refusal or
// errNoFilePart; never a panic.
func FuzzFilePart(f *testing.F) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("autre", "x")
	fw, _ := w.CreateFormFile("fichier", "vol.tlog")
	_, _ = fw.Write([]byte("\xfe\x09tlog"))
	_ = w.Close()
	f.Add(w.FormDataContentType(), buf.Bytes())
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"fichier\"\r\n\r\nabc\r\n--x--\r\n"))
	f.Add("application/octet-stream", []byte("raw"))
	f.Add("text/plain", []byte(""))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		p, err := openFilePart(&reader{Reader: bytes.NewReader(body)}, ct)
		if err != nil {
			return
		}
		if _, err := io.Copy(io.Discard, p); err != nil && !strings.Contains(err.Error(), "multipart") && err != io.ErrUnexpectedEOF {
			t.Logf("read: %v", err) // a cut part is the importer's to refuse
		}
	})
}

// TestFilePart: the fichier part is found after other fields; a body
// without one is errNoFilePart; other media types are refused.
func TestFilePart(t *testing.T) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("csrf", "x")
	fw, _ := w.CreateFormFile("fichier", "vol.tlog")
	_, _ = fw.Write([]byte("le journal"))
	_ = w.Close()
	p, err := openFilePart(&reader{Reader: bytes.NewReader(buf.Bytes())}, w.FormDataContentType())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(p); string(b) != "le journal" {
		t.Fatalf("part %q", b)
	}
	if _, err := openFilePart(&reader{Reader: strings.NewReader("--b--\r\n")}, "multipart/form-data; boundary=b"); err != errNoFilePart {
		t.Errorf("no part: %v", err)
	}
	for _, ct := range []string{"text/plain", "multipart/form-data", "", "multipart/mixed; boundary=b"} {
		if _, err := openFilePart(&reader{Reader: strings.NewReader("")}, ct); civic.ErrorCode(err) != civic.EUNSUPPORTED {
			t.Errorf("%q: %v", ct, err)
		}
	}
	if _, err := openFilePart(&reader{Reader: strings.NewReader(""), over: true}, "multipart/form-data; boundary=b"); civic.ErrorCode(err) != civic.ETOOLARGE {
		t.Errorf("over the limit: %v", err)
	}
}
