package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestFlagsConcurrently: the same person flagging the same item from many
// requests at once stores one flag (the unique index), the others are
// ECONFLICT; the queue counts it once; erasing the flagger's account takes
// the flag with it; on SQLite and PostgreSQL.
func TestFlagsConcurrently(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, b.Store, 2)
			p := f.proposal(t, 10, "securite")
			if _, err := b.Store.SetStatus(ctx, p.ID, civic.StatusPublished, f.admin, "", time.Now()); err != nil {
				t.Fatal(err)
			}
			flagger := f.citizens[1]
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- b.Store.FlagContent(ctx, &civic.Flag{Kind: civic.TargetProposal, TargetID: p.ID, Reason: civic.ReasonDuplicate}, flagger)
				}()
			}
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				switch civic.ErrorCode(err) {
				case "":
					ok++
				case civic.ECONFLICT:
				default:
					t.Errorf("concurrent flag: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d flags stored, want 1", ok)
			}
			count := func() int {
				q, err := b.Store.ModerationQueue(ctx, 500)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range q {
					if it.ID == p.ID {
						return it.Flags
					}
				}
				return 0
			}
			if n := count(); n != 1 {
				t.Fatalf("queue counts %d flags", n)
			}
			if err := b.Store.DeleteUser(ctx, flagger.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			if n := count(); n != 0 {
				t.Errorf("an erased account's flag still counts: %d", n)
			}
		})
	}
}
