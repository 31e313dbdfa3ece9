package senml

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestSenMLDifferentialGenerated complements FuzzDifferential, whose
// byte mutations rarely build a whole valid pack: it generates packs from the
// SenML grammar (every label, number spellings, escapes, whitespace, unknown
// and nested labels), corrupts some of them, and checks that the scanner and
// the encoding/json reference agree on each. Deterministic seeds.
func TestSenMLDifferentialGenerated(t *testing.T) {
	accepted := 0
	const n = 3000
	for seed := range uint64(n) {
		g := packGen{r: rand.New(rand.NewPCG(seed, 2026))}
		in := g.pack()
		if g.r.IntN(5) == 0 {
			in = g.corrupt(in)
		}
		got, err := Decode(in, fuzzNow)
		ref, refErr := refDecodeSenML(in, fuzzNow)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("seed %d: %s\ndecoder error: %v\nreference error: %v", seed, in, err, refErr)
		}
		if d := diffResolved(got, ref); d != "" {
			t.Fatalf("seed %d: %s\ndiffer: %s", seed, in, d)
		}
		if err == nil {
			accepted++
		}
	}
	t.Logf("%d of %d generated packs accepted", accepted, n)
	// The generator must exercise both outcomes, or the test proves little.
	if accepted < n/5 || accepted > n*4/5 {
		t.Fatalf("%d of %d generated packs accepted: generator out of balance", accepted, n)
	}
}

type packGen struct {
	r *rand.Rand
	b strings.Builder
}

func (g *packGen) ws() {
	for g.r.IntN(5) == 0 {
		g.b.WriteByte(" \t\r\n"[g.r.IntN(4)])
	}
}

func (g *packGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *packGen) str() string {
	var s strings.Builder
	s.WriteByte('"')
	for range g.r.IntN(8) {
		switch g.r.IntN(12) {
		case 0:
			s.WriteString(g.pick(`\"`, `\\`, `\/`, `\n`, `\t`, `\u0041`, `\u00e9`, `\ud83d\ude00`, `\ud800`, `\u003a`, `\u0000`))
		case 1:
			s.WriteString(g.pick("é", "€", "\u2028", " ", "-", ".", "/", ":", "_"))
		default:
			s.WriteByte("abcxyzAZ0189"[g.r.IntN(12)])
		}
	}
	s.WriteByte('"')
	return s.String()
}

func (g *packGen) name() string {
	if g.r.IntN(8) == 0 {
		return g.str()
	}
	return `"` + g.pick("nice:gw1:", "gw1:", "temperature", "urn:dev:ow:10e2:", "a", "x_1", "2001:db8::2/", "nice/gw1/pm2_5") + `"`
}

func (g *packGen) num() string {
	switch g.r.IntN(10) {
	case 0:
		return g.pick("0", "-0", "1e400", "-1e400", "1e-400", "0.1", "1E2", "1e+2", "123456789012345678", "0.14e1", "1.30")
	case 1:
		return strconv.FormatFloat(g.r.NormFloat64()*1e9, 'g', -1, 64)
	case 2:
		return strconv.Itoa(1_600_000_000 + g.r.IntN(1_000_000_000))
	case 3:
		return strconv.FormatFloat(float64(1_700_000_000)+g.r.Float64(), 'f', g.r.IntN(9), 64)
	default:
		return strconv.FormatFloat(g.r.NormFloat64()*100, 'f', g.r.IntN(6), 64)
	}
}

func (g *packGen) value(depth int) string {
	switch g.r.IntN(7) {
	case 0:
		return g.str()
	case 1:
		return g.num()
	case 2:
		return g.pick("true", "false", "null")
	case 3:
		if depth < 3 {
			return "[" + g.value(depth+1) + "," + g.value(depth+1) + "]"
		}
		return "[]"
	case 4:
		if depth < 3 {
			return `{"k":` + g.value(depth+1) + "}"
		}
		return "{}"
	default:
		return g.num()
	}
}

func (g *packGen) record(first bool) {
	g.b.WriteByte('{')
	labels := g.r.Perm(15)[:g.r.IntN(3)]
	if g.r.IntN(5) > 0 {
		labels = append(labels, 6, 8) // n and v, most records have them
	}
	seen := map[int]bool{}
	comma := false
	for _, l := range labels {
		if seen[l] && g.r.IntN(10) > 0 {
			continue
		}
		seen[l] = true
		if comma {
			g.b.WriteByte(',')
		}
		comma = true
		g.ws()
		var k, v string
		switch l {
		case 0:
			k, v = "bn", g.name()
		case 1:
			k, v = "bt", g.num()
		case 2:
			k, v = "bu", `"`+g.pick("Cel", "%RH", "Pa", "")+`"`
		case 3:
			k, v = "bv", g.num()
		case 4:
			k, v = "bs", g.num()
		case 5:
			k, v = "bver", g.pick("10", "5", "11", "0", "10.0", "-1")
			if !first && g.r.IntN(2) == 0 {
				v = "10"
			}
		case 6:
			k, v = "n", g.name()
		case 7:
			k, v = "u", `"`+g.pick("Cel", "m", "ug/m3")+`"`
		case 8:
			k, v = "v", g.num()
		case 9:
			k, v = "vs", g.str()
		case 10:
			k, v = "vb", g.pick("true", "false", "1")
		case 11:
			k, v = "vd", `"`+g.pick("AQID_w", "aGkgCg", "AQ==", "A", "")+`"`
		case 12:
			k, v = "s", g.num()
		case 13:
			k, v = "t", g.pick("-5", "0", "10.5", g.num())
		case 14:
			k, v = g.pick("ut", "x", "l", "foo_", `\u0076`, "N"), g.value(0)
		}
		g.b.WriteString(`"` + k + `"`)
		g.ws()
		g.b.WriteByte(':')
		g.ws()
		g.b.WriteString(v)
		g.ws()
	}
	g.b.WriteByte('}')
}

func (g *packGen) pack() []byte {
	g.b.Reset()
	g.ws()
	g.b.WriteByte('[')
	for i := range 1 + g.r.IntN(4) {
		if i > 0 {
			g.b.WriteByte(',')
		}
		g.ws()
		g.record(i == 0)
		g.ws()
	}
	g.b.WriteByte(']')
	g.ws()
	return []byte(g.b.String())
}

// corrupt flips, drops or inserts one byte.
func (g *packGen) corrupt(in []byte) []byte {
	out := []byte(string(in))
	i := g.r.IntN(len(out))
	switch g.r.IntN(3) {
	case 0:
		out[i] = "\"\\{}[],:0e-. \xff\x01"[g.r.IntN(15)]
	case 1:
		out = append(out[:i], out[i+1:]...)
	default:
		out = append(out[:i], append([]byte{"\"\\{}[],:"[g.r.IntN(8)]}, out[i:]...)...)
	}
	return out
}
