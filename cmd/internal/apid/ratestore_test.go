package apid

import (
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestRateStore: api.rate_store auto keeps the limits in PostgreSQL (shared
// by replicas) and in memory on SQLite; memory and sql force either.
func TestRateStore(t *testing.T) {
	pg, lite := sqltest.Postgres(t).Store, sqltest.SQLite(t).Store
	for _, c := range []struct {
		store string
		st    *sqlstore.Store
		sql   bool
	}{
		{RateStoreAuto, pg, true}, {"", pg, true}, {RateStoreAuto, lite, false},
		{RateStoreMemory, pg, false}, {RateStoreSQL, lite, true}, {RateStoreSQL, pg, true},
	} {
		l, name := rateLimiter(c.store, c.st)
		_, isSQL := l.(*sqlstore.RateLimiter)
		_, isMem := l.(*api.MemoryLimiter)
		if isSQL != c.sql || isMem == c.sql || (name == RateStoreSQL) != c.sql {
			t.Errorf("rate_store %q on postgres=%v: %T (%s)", c.store, c.st.Postgres(), l, name)
		}
	}
}
