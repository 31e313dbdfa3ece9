package lineproto

import (
	"strings"
	"testing"

	"github.com/cd06/smartdeal"
)

// oneLine is what the load test publishes: one line, one field.
var oneLine = []byte("temperature,site=nice,device=gw1,unit=Cel value=21.37 1795775340123456789\n")

// telegrafBatch is what a Telegraf agent publishes for a BME280 and a PM
// sensor: ten fields on three lines, with host tags that are dropped.
var telegrafBatch = []byte(strings.Join([]string{
	"bme280,host=gw1,site=nice temperature=21.37,humidity=48.2,pressure=101325.5 1795775340000000000",
	"sds011,host=gw1,site=nice pm2_5=7.4,pm10=12.9 1795775340000000000",
	"bme280,host=gw1,site=nice temperature=21.41,humidity=48.1,pressure=101324.9 1795775345000000000",
	"sds011,host=gw1,site=nice pm2_5=7.6,pm10=13.1 1795775345000000000",
}, "\n") + "\n")

func benchReadings(b *testing.B, data []byte, perOp int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	dst := make([]smartdeal.Reading, 0, perOp)
	var err error
	cpu0 := processCPU()
	for b.Loop() {
		if dst, err = Readings("nice", "gw1", data, now, dst[:0]); err != nil {
			b.Fatal(err)
		}
		if len(dst) != perOp {
			b.Fatalf("%d readings, want %d", len(dst), perOp)
		}
	}
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perOp), "ns/record")
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N*perOp), "cpu-ns/record")
}

func BenchmarkReadingsOneLine(b *testing.B)       { benchReadings(b, oneLine, 1) }
func BenchmarkReadingsTelegrafBatch(b *testing.B) { benchReadings(b, telegrafBatch, 10) }
