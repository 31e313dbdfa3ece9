package gateway

import (
	"runtime/debug"
	"time"
)

// Set at link time:
//
//	go build -ldflags "-X github.com/cd06/smartdeal/devices/gateway.version=v1.2.3 \
//	  -X github.com/cd06/smartdeal/devices/gateway.buildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
var (
	version   = ""
	buildTime = ""
)

// releaseFloor is a compiled-in lower bound of the correct time: this code did
// not exist before it. It keeps the clock guard working in builds without
// -ldflags and without VCS stamping.
var releaseFloor = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// Version returns the version set at link time, or the module version, or "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// MinClock returns the earliest wall time the gateway trusts: the newest of
// the link-time build time, the VCS commit time recorded by the Go toolchain,
// and a compiled-in floor. A clock reading earlier than that has not been set.
func MinClock() time.Time {
	t := releaseFloor
	consider := func(s string) {
		if v, err := time.Parse(time.RFC3339, s); err == nil && v.After(t) {
			t = v
		}
	}
	consider(buildTime)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				consider(s.Value)
			}
		}
	}
	return t
}
