package influxschema

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)

func TestAppendPoint(t *testing.T) {
	tests := []struct {
		name string
		r    smartdeal.Reading
		want string
	}{
		{"number with unit", smartdeal.Reading{Site: "nice", Device: "bme-1", Quantity: "temperature", Unit: "Cel", Time: t0, Number: 21.5},
			"telemetry,device=bme-1,quantity=temperature,site=nice,unit=Cel value=21.5 1795773600123456789\n"},
		{"integral number stays float", smartdeal.Reading{Site: "s", Device: "d", Quantity: "pressure", Unit: "Pa", Time: t0, Number: 101325},
			"telemetry,device=d,quantity=pressure,site=s,unit=Pa value=101325 1795773600123456789\n"},
		{"huge and tiny numbers", smartdeal.Reading{Site: "s", Device: "d", Quantity: "q", Time: t0, Number: -1.5e300, HasSum: true, Sum: 2.5e-7},
			"telemetry,device=d,quantity=q,site=s value=-1.5e+300,sum=2.5e-07 1795773600123456789\n"},
		{"mission and no unit", smartdeal.Reading{Site: "s", Device: "drone-3", Quantity: "latitude", Mission: "m-42", Time: t0, Number: 43.7},
			"telemetry,device=drone-3,mission=m-42,quantity=latitude,site=s value=43.7 1795773600123456789\n"},
		{"string escaped", smartdeal.Reading{Site: "s", Device: "d", Quantity: "status", Kind: smartdeal.KindString, Time: t0, Text: "a \"b\" \\ c\nd"},
			"telemetry,device=d,quantity=status,site=s text=\"a \\\"b\\\" \\\\ c\\nd\" 1795773600123456789\n"},
		{"bool", smartdeal.Reading{Site: "s", Device: "d", Quantity: "door", Kind: smartdeal.KindBool, Bool: true, Time: t0},
			"telemetry,device=d,quantity=door,site=s flag=true 1795773600123456789\n"},
		{"data", smartdeal.Reading{Site: "s", Device: "d", Quantity: "blob", Kind: smartdeal.KindData, Text: "AAEC", Time: t0},
			"telemetry,device=d,quantity=blob,site=s text=\"AAEC\" 1795773600123456789\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.r.Validate(t0); err != nil {
				t.Fatalf("test reading invalid: %v", err)
			}
			if got := string(AppendPoint(nil, &tt.r)); got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func BenchmarkAppendPoints(b *testing.B) {
	rs := make([]smartdeal.Reading, 100)
	for i := range rs {
		rs[i] = smartdeal.Reading{Site: "nice", Device: fmt.Sprintf("dev-%d", i%10), Quantity: "temperature", Unit: "Cel",
			Time: t0.Add(time.Duration(i) * time.Second), Number: 20 + math.Sin(float64(i))}
	}
	buf := AppendPoints(nil, rs)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = AppendPoints(buf[:0], rs)
	}
	b.ReportMetric(float64(b.N*len(rs))/b.Elapsed().Seconds(), "points/s")
}
