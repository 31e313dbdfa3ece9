package spool_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cd06/smartdeal/devices/spool"
)

// readingsPerPack is the number of readings in benchPayload.
const readingsPerPack = 3

// A typical pack: one BME280 read, three readings, as SenML JSON.
var benchPayload = []byte(`[{"bn":"urn:dev:smartdeal:nice-port:bme280-1:","bt":1.7644e+09,"n":"temperature","u":"Cel","v":21.37},{"n":"relative_humidity","u":"%RH","v":64.2},{"n":"pressure","u":"Pa","v":101325}]`)

// BenchmarkAppendParallel measures durable appends from many goroutines (one
// per sensor, as in the gateway); group commit shares each fsync among them.
func BenchmarkAppendParallel(b *testing.B) {
	for _, writers := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := spool.Open(filepath.Join(b.TempDir(), "spool.db"), spool.Options{MaxBytes: 1 << 30, MaxEntries: 10_000_000})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(len(benchPayload)))
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N / writers
			for w := range writers {
				n := per
				if w == 0 {
					n += b.N % writers
				}
				wg.Go(func() {
					for range n {
						if err := s.Append("smartdeal/v1/nice-port/bme280-1/telemetry", benchPayload); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(readingsPerPack*float64(b.N)/b.Elapsed().Seconds(), "readings/s")
			b.ReportMetric(float64(b.N)/float64(st.Commits), "entries/commit")
		})
	}
}

// BenchmarkDeliver measures draining a backlog: Peek 256 entries, Remove them.
func BenchmarkDeliver(b *testing.B) {
	s, err := spool.Open(filepath.Join(b.TempDir(), "spool.db"), spool.Options{MaxBytes: 1 << 30, MaxEntries: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < b.N; i += 64 {
				if err := s.Append("smartdeal/v1/nice-port/bme280-1/telemetry", benchPayload); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.SetBytes(int64(len(benchPayload)))
	b.ReportAllocs()
	b.ResetTimer()
	var after uint64
	delivered := 0
	for delivered < b.N {
		es, err := s.Peek(after, 256)
		if err != nil {
			b.Fatal(err)
		}
		if len(es) == 0 {
			b.Fatalf("spool empty after %d of %d", delivered, b.N)
		}
		seqs := make([]uint64, len(es))
		for i, e := range es {
			seqs[i] = e.Seq
		}
		if err := s.Remove(seqs...); err != nil {
			b.Fatal(err)
		}
		after = es[len(es)-1].Seq
		delivered += len(es)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(readingsPerPack*float64(b.N)/b.Elapsed().Seconds(), "readings/s")
}
