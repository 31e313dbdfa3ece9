//go:build unix

package senml

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used. The
// benchmarks report CPU per record as well as wall time because the shared
// build machine is often busy: wall time then measures the neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
