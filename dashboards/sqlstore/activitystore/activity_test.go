package activitystore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/activitystore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

type proposalsFunc func(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error)

func (p proposalsFunc) Proposals(ctx context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error) {
	return p(ctx, f)
}

// TestActivityStore: Activity asks its Proposals for the user's own, at most
// civic.ActivityLimit, and fails with its error; an account with nothing has
// empty lists, not nil — on SQLite and PostgreSQL. (What the lists hold is
// sqlstore's TestActivity, on the composed store.)
func TestActivityStore(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := sqltest.DB(t, b) // a pool of its own on the store's database (schema)
			var asked civic.ProposalFilter
			ok := activitystore.New(db, proposalsFunc(func(_ context.Context, f civic.ProposalFilter) ([]*civic.Proposal, error) {
				asked = f
				return nil, nil
			}))
			a, err := ok.Activity(ctx, "nobody", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if asked.AuthorID != "nobody" || asked.Limit != civic.ActivityLimit {
				t.Errorf("asked %+v", asked)
			}
			if a.Proposals == nil || a.Supports == nil || a.Comments == nil || len(a.Proposals)+len(a.Supports)+len(a.Comments) != 0 {
				t.Errorf("activity of nobody %+v", a)
			}
			boom := errors.New("boom")
			failing := activitystore.New(db, proposalsFunc(func(context.Context, civic.ProposalFilter) ([]*civic.Proposal, error) { return nil, boom }))
			if _, err := failing.Activity(ctx, "nobody", time.Now()); !errors.Is(err, boom) {
				t.Errorf("failing proposals: %v", err)
			}
		})
	}
}
