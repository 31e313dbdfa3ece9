package senml

import (
	"testing"
	"time"

	"github.com/cd06/smartdeal"
)

// gatewayPack is what a gateway publishes every ten seconds for one BME280
// and one PM sensor: base name and base time, relative times, units.
var gatewayPack = []byte(`[{"bn":"nice:gw-port-1:","bt":1764239400.125,"n":"temperature","u":"Cel","v":21.37},` +
	`{"n":"relative_humidity","u":"%RH","v":48.2},` +
	`{"n":"pressure","u":"Pa","v":101325.5},` +
	`{"n":"pm2_5","u":"ug/m3","v":7.4},` +
	`{"n":"pm10","u":"ug/m3","v":12.9},` +
	`{"n":"temperature","u":"Cel","t":5,"v":21.41},` +
	`{"n":"relative_humidity","u":"%RH","t":5,"v":48.1},` +
	`{"n":"pressure","u":"Pa","t":5,"v":101324.9},` +
	`{"n":"pm2_5","u":"ug/m3","t":5,"v":7.6},` +
	`{"n":"battery_remaining","u":"%EL","t":5,"v":87}]`)

const gatewayPackRecords = 10

var benchNow = time.Date(2025, 11, 27, 10, 30, 5, 0, time.UTC)

// reportRecords reports records per second of wall time and CPU time per
// record (see processCPU); cpu0 is processCPU() before the loop.
func reportRecords(b *testing.B, perOp int, cpu0 time.Duration) {
	cpu := processCPU() - cpu0
	n := float64(b.N * perOp)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/record")
}

func BenchmarkDecode(b *testing.B) {
	b.SetBytes(int64(len(gatewayPack)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := Decode(gatewayPack, benchNow); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, gatewayPackRecords, cpu0)
}

func BenchmarkReadings(b *testing.B) {
	b.SetBytes(int64(len(gatewayPack)))
	b.ReportAllocs()
	dst := make([]smartdeal.Reading, 0, gatewayPackRecords)
	var err error
	cpu0 := processCPU()
	for b.Loop() {
		if dst, err = Readings("nice", "gw-port-1", gatewayPack, benchNow, dst[:0]); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, gatewayPackRecords, cpu0)
}

// BenchmarkRefDecode is the encoding/json reference decoder, for comparison.
func BenchmarkRefDecode(b *testing.B) {
	b.SetBytes(int64(len(gatewayPack)))
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := refDecodeSenML(gatewayPack, benchNow); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, gatewayPackRecords, cpu0)
}

func benchReadings(b *testing.B) []smartdeal.Reading {
	rs, err := Readings("nice", "gw-port-1", gatewayPack, benchNow, nil)
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

func BenchmarkEncodeReadings(b *testing.B) {
	rs := benchReadings(b)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := EncodeReadings("nice", "gw-port-1", rs); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, len(rs), cpu0)
}

func BenchmarkAppendReadings(b *testing.B) {
	rs := benchReadings(b)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	var err error
	cpu0 := processCPU()
	for b.Loop() {
		if buf, err = AppendReadings(buf[:0], "nice", "gw-port-1", rs); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, len(rs), cpu0)
}
