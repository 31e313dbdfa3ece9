package civic_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/civic"
)

func TestFlagRules(t *testing.T) {
	me := &civic.User{ID: "u1"}
	if err := civic.CheckFlag(me, "u1", true); civic.ErrorCode(err) != civic.EFORBIDDEN {
		t.Errorf("own content: %v", err)
	}
	if err := civic.CheckFlag(me, "u2", false); civic.ErrorCode(err) != civic.ENOTFOUND {
		t.Errorf("hidden content: %v", err)
	}
	if err := civic.CheckFlag(me, "", true); err != nil { // an erased author's content
		t.Errorf("anonymous content: %v", err)
	}
	f := civic.Flag{Kind: civic.TargetComment, Reason: civic.ReasonAbusive, Note: "  x  "}
	if err := f.Validate(); err != nil || f.Note != "x" {
		t.Errorf("valid flag: %v %q", err, f.Note)
	}
	for _, bad := range []civic.Flag{{Kind: "user", Reason: civic.ReasonAbusive}, {Kind: civic.TargetProposal}, {Kind: civic.TargetProposal, Reason: "rude"},
		{Kind: civic.TargetProposal, Reason: civic.ReasonOther, Note: strings.Repeat("é", 501)}} {
		if err := bad.Validate(); civic.ErrorCode(err) != civic.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if civic.DecisionFor(true, true) != civic.DecisionRefuse || civic.DecisionFor(false, true) != civic.DecisionApprove || civic.DecisionFor(false, false) != civic.DecisionKeep {
		t.Error("DecisionFor")
	}
}

func TestBlockAndCampaignRules(t *testing.T) {
	admin := &civic.User{ID: "a"}
	if _, err := civic.CheckBlock(admin, "a", "x"); civic.ErrorCode(err) != civic.EFORBIDDEN {
		t.Errorf("self block: %v", err)
	}
	if _, err := civic.CheckBlock(admin, "b", "  "); civic.ErrorCode(err) != civic.EINVALID {
		t.Errorf("no reason: %v", err)
	}
	if err := civic.CheckCampaignTheme(nil, "any"); err != nil {
		t.Error(err)
	}
	if err := civic.CheckCampaignTheme([]string{"biodiversite"}, "securite"); civic.ErrorCode(err) != civic.EINVALID {
		t.Errorf("foreign theme: %v", err)
	}
	now := time.Now()
	c := &civic.Campaign{ID: "c", Starts: now.Add(-time.Hour), Ends: now.Add(time.Hour), BudgetEUR: 100}
	if err := civic.CheckClose(c, now); err != nil {
		t.Error(err)
	}
	if err := civic.CheckClose(c, now.Add(2*time.Hour)); civic.ErrorCode(err) != civic.ECONFLICT {
		t.Errorf("closing a closed campaign: %v", err)
	}
	r := civic.CampaignResults(c, []*civic.Proposal{
		{ID: "a", Status: civic.StatusSelected, EstimatedCostEUR: 30, Votes: 1},
		{ID: "b", Status: civic.StatusRealized, EstimatedCostEUR: 50, Votes: 5},
		{ID: "c", Status: civic.StatusRejected, RejectionReason: "non"},
		{ID: "d", Status: civic.StatusPublished},
	})
	if len(r.Selected) != 2 || r.Selected[0].ID != "b" || r.CommittedEUR != 80 || r.RemainingEUR != 20 || r.Realized != 1 || len(r.Rejected) != 1 {
		t.Errorf("results %+v", r)
	}
	if _, err := civic.CheckProposalQuery("x", "votes"); civic.ErrorCode(err) != civic.EINVALID {
		t.Errorf("bad sort: %v", err)
	}
}

func TestRealizationRules(t *testing.T) {
	p := 101
	if err := (&civic.RealizationUpdate{Body: "x", Progress: &p}).Validate(); civic.ErrorCode(err) != civic.EINVALID {
		t.Errorf("progress 101: %v", err)
	}
	if err := civic.CheckRealization(civic.StatusPublished); civic.ErrorCode(err) != civic.ECONFLICT {
		t.Errorf("published: %v", err)
	}
	a, b := 10, int64(5)
	sum := civic.SumRealization([]*civic.RealizationUpdate{{Body: "new"}, {Progress: &a}, {ActualCostEUR: &b}})
	if sum.Progress == nil || *sum.Progress != 10 || sum.ActualCostEUR == nil || *sum.ActualCostEUR != 5 {
		t.Errorf("sum %+v", sum)
	}
}

// FuzzParseFilterTime: any input is a time, nothing, or a field error.
func FuzzParseFilterTime(f *testing.F) {
	for _, s := range []string{"", "2026-01-31", "2026-02-30", "2026-01-01T10:00:00Z", "hier", "2026-01-01T10:00:00+99:00"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, end bool) {
		tm, err := civic.ParseFilterTime(v, "from", end)
		if err != nil {
			if civic.ErrorCode(err) != civic.EINVALID {
				t.Fatalf("%q: %v", v, err)
			}
			return
		}
		if v == "" && !tm.IsZero() {
			t.Fatalf("empty gave %s", tm)
		}
	})
}
