package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestWorkflow drives a proposal through the whole workflow with the roles
// that may take each step, on SQLite and on PostgreSQL.
func TestWorkflow(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})

			// Sign-up and sign-in with a password (argon2id) give a bearer token.
			e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": "Marie@Example.fr", "name": "Marie", "password": "correct horse battery"}, 201, nil)
			e.verify("marie@example.fr") // she followed her verification link (accounts_test.go follows real ones)
			e.problem("POST", "/api/v1/auth/signup", "", map[string]any{"email": "marie@example.fr", "name": "M", "password": "correct horse battery"}, 409)
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": "marie@example.fr", "password": "wrong password!"}, 401)
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": "nobody@example.fr", "password": "wrong password!"}, 401)
			var in struct {
				Token string      `json:"token"`
				User  *civic.User `json:"user"`
			}
			e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": "marie@example.fr", "password": "correct horse battery"}, 200, &in)
			if in.Token == "" || in.User.Role != civic.RoleCitizen {
				t.Fatalf("sign-in: %+v", in)
			}
			marie := in.Token
			var me civic.User
			e.call("GET", "/api/v1/me", marie, nil, 200, &me)
			if me.Email != "marie@example.fr" {
				t.Fatalf("me = %+v", me)
			}

			_, voter := e.user(civic.RoleCitizen)
			expertU, expert := e.user(civic.RoleExpert)
			_, agent := e.user(civic.RoleAgent)

			p := e.idea(marie, 250_000, false)
			if p.Status != civic.StatusSubmitted {
				t.Fatalf("new proposal status %s", p.Status)
			}
			// Submitted proposals are hidden from the public, visible to the author.
			e.problem("GET", "/api/v1/ideas/"+p.ID, "", nil, 404)
			e.call("GET", "/api/v1/ideas/"+p.ID, marie, nil, 200, nil)
			// Only a moderator publishes (an expert may not even see a
			// submitted proposal: 404, not 403); nobody skips steps.
			e.problem("POST", "/api/v1/ideas/"+p.ID+"/status", expert, map[string]any{"status": "published"}, 404)
			e.problem("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "selected"}, 409)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)

			// Votes: one per citizen, withdrawable, never public.
			var v struct {
				Voted bool `json:"voted"`
				Votes int  `json:"votes"`
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", voter, nil, 200, &v)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", voter, nil, 200, &v)
			if v.Votes != 1 {
				t.Fatalf("double vote counted: %d", v.Votes)
			}
			e.call("DELETE", "/api/v1/ideas/"+p.ID+"/vote", voter, nil, 200, &v)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", voter, nil, 200, &v)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/vote", marie, nil, 200, &v)
			if v.Votes != 2 {
				t.Fatalf("votes = %d, want 2", v.Votes)
			}
			_, body := e.do("GET", "/api/v1/ideas/"+p.ID, "", nil)
			_, od := e.do("GET", "/opendata/proposals.json", "", nil)
			for _, secret := range []string{me.ID, "marie@example.fr"} {
				if strings.Contains(string(body), secret) && secret != p.AuthorID || strings.Contains(string(od), secret) {
					t.Fatalf("public output reveals %q", secret)
				}
			}
			// Comments wait for moderation.
			var cm civic.Comment
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", voter, map[string]any{"body": "Très utile pour la vallée."}, 201, &cm)
			var cms []civic.Comment
			e.call("GET", "/api/v1/ideas/"+p.ID+"/comments", "", nil, 200, &cms)
			if len(cms) != 0 {
				t.Fatalf("unmoderated comment is public")
			}
			e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
			e.call("GET", "/api/v1/ideas/"+p.ID+"/comments", "", nil, 200, &cms)
			if len(cms) != 1 {
				t.Fatalf("approved comment missing")
			}

			// Shortlist by rule, review, select, realise.
			var sl map[string][]string
			e.call("POST", "/api/v1/campaigns/"+e.campaign+"/shortlist", expert, nil, 200, &sl)
			if len(sl["shortlisted"]) != 1 || sl["shortlisted"][0] != p.ID {
				t.Fatalf("shortlist = %v", sl)
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/reviews", expert, map[string]any{"impact": 5, "feasibility": 4, "cost": 3, "comment": "Solide."}, 200, nil)
			e.problem("POST", "/api/v1/ideas/"+p.ID+"/reviews", expert, map[string]any{"impact": 9, "feasibility": 4, "cost": 3}, 400)
			var ev struct {
				Reviews []civic.Review `json:"reviews"`
			}
			e.call("GET", "/api/v1/ideas/"+p.ID+"/evidence", expert, nil, 200, &ev)
			if len(ev.Reviews) != 1 || ev.Reviews[0].ExpertID != expertU.ID {
				t.Fatalf("evidence reviews %+v", ev.Reviews)
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", expert, map[string]any{"status": "under_review"}, 200, nil)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", expert, map[string]any{"status": "selected"}, 200, nil)
			e.problem("POST", "/api/v1/ideas/"+p.ID+"/status", expert, map[string]any{"status": "in_progress"}, 403)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", agent, map[string]any{"status": "in_progress"}, 200, nil)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", agent, map[string]any{"status": "realized"}, 200, nil)

			var h []civic.StatusChange
			e.call("GET", "/api/v1/ideas/"+p.ID+"/history", "", nil, 200, &h)
			want := []string{"submitted", "published", "shortlisted", "under_review", "selected", "in_progress", "realized"}
			if len(h) != len(want) {
				t.Fatalf("history has %d entries, want %d", len(h), len(want))
			}
			for i, c := range h {
				if string(c.To) != want[i] || c.By == "" || c.At.IsZero() {
					t.Fatalf("history[%d] = %+v", i, c)
				}
			}
			var cv struct {
				CommittedEUR int64 `json:"committed_eur"`
				RemainingEUR int64 `json:"remaining_eur"`
			}
			e.call("GET", "/api/v1/campaigns/"+e.campaign, "", nil, 200, &cv)
			if cv.CommittedEUR != 250_000 || cv.RemainingEUR != 750_000 {
				t.Fatalf("campaign budget view %+v", cv)
			}

			// A rejection needs a public reason.
			q := e.idea(marie, 10, true)
			e.problem("POST", "/api/v1/ideas/"+q.ID+"/status", e.admin, map[string]any{"status": "rejected"}, 400)
			e.call("POST", "/api/v1/ideas/"+q.ID+"/status", e.admin, map[string]any{"status": "rejected", "reason": "Hors du périmètre du département."}, 200, q)
			if q.RejectionReason == "" {
				t.Fatalf("rejection reason not kept")
			}

			// Audit log records the sensitive actions.
			var audit []civic.AuditEntry
			e.call("GET", "/api/v1/audit?limit=500", e.admin, nil, 200, &audit)
			seen := map[string]bool{}
			for _, a := range audit {
				seen[a.Action] = true
			}
			for _, a := range []string{"auth.signin", "auth.signin_failed", "proposal.status", "comment.moderate", "campaign.create"} {
				if !seen[a] {
					t.Errorf("audit log lacks %s", a)
				}
			}

			// GDPR: export then erase my account.
			var ex civic.Export
			e.call("GET", "/api/v1/me/export", marie, nil, 200, &ex)
			if ex.User.Email != "marie@example.fr" || len(ex.Proposals) != 2 || len(ex.Votes) != 1 {
				t.Fatalf("export: %d proposals, %d votes", len(ex.Proposals), len(ex.Votes))
			}
			resp, _ := e.do("DELETE", "/api/v1/me", marie, nil)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("delete me: %d", resp.StatusCode)
			}
			e.problem("GET", "/api/v1/me", marie, nil, 401)
			var after civic.Proposal
			e.call("GET", "/api/v1/ideas/"+p.ID, "", nil, 200, &after)
			// Voting on p had closed: marie's support stays counted, anonymously
			// (sqlstore.DeleteUser), so the count the decisions rest on stays.
			if after.AuthorID != "" || after.Votes != 2 || after.Status != civic.StatusRealized {
				t.Fatalf("after erasure: %+v", after)
			}
		})
	}
}

// TestBudget: a selection over the campaign budget is refused with a
// problem+json saying by how much, and nothing changes.
func TestBudget(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			_, citizen := e.user(civic.RoleCitizen)
			_, expert := e.user(civic.RoleExpert)
			a, c := e.idea(citizen, 800_000, true), e.idea(citizen, 350_000, true)
			for _, p := range []*civic.Proposal{a, c} {
				for _, st := range []string{"shortlisted", "under_review"} {
					e.call("POST", "/api/v1/ideas/"+p.ID+"/status", expert, map[string]any{"status": st}, 200, nil)
				}
			}
			e.call("POST", "/api/v1/ideas/"+a.ID+"/status", expert, map[string]any{"status": "selected"}, 200, nil)
			pr := e.problem("POST", "/api/v1/ideas/"+c.ID+"/status", expert, map[string]any{"status": "selected"}, 409)
			if pr["code"] != civic.EOVERBUDGET || pr["over_by_eur"] != float64(150_000) || !strings.Contains(pr["detail"].(string), "150000") {
				t.Fatalf("problem = %v", pr)
			}
			var got civic.Proposal
			e.call("GET", "/api/v1/ideas/"+c.ID, "", nil, 200, &got)
			if got.Status != civic.StatusUnderReview {
				t.Fatalf("refused selection left status %s", got.Status)
			}
			var h []json.RawMessage
			e.call("GET", "/api/v1/ideas/"+c.ID+"/history", "", nil, 200, &h)
			if len(h) != 4 {
				t.Fatalf("refused selection wrote history (%d entries)", len(h))
			}
		})
	}
}

// TestConcurrentSelections: ten experts select ten 200,000 € proposals at the
// same time; the 1,000,000 € budget admits exactly five, the others get
// over_budget — on SQLite and PostgreSQL.
func TestConcurrentSelections(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			base := serve(t, e)
			_, citizen := e.user(civic.RoleCitizen)
			ids := make([]string, 10)
			toks := make([]string, 10)
			for i := range ids {
				p := e.idea(citizen, 200_000, true)
				for _, st := range []string{"shortlisted", "under_review"} {
					e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": st}, 200, nil)
				}
				ids[i] = p.ID
				_, toks[i] = e.user(civic.RoleExpert)
			}
			var wg sync.WaitGroup
			codes := make([]int, len(ids))
			start := make(chan struct{})
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					req, _ := http.NewRequest("POST", base+"/api/v1/ideas/"+ids[i]+"/status", strings.NewReader(`{"status":"selected"}`))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+toks[i])
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					codes[i] = resp.StatusCode
				}()
			}
			close(start)
			wg.Wait()
			ok, refused := 0, 0
			for _, c := range codes {
				switch c {
				case 200:
					ok++
				case 409:
					refused++
				}
			}
			var cv struct {
				CommittedEUR int64 `json:"committed_eur"`
			}
			e.call("GET", "/api/v1/campaigns/"+e.campaign, "", nil, 200, &cv)
			if ok != 5 || refused != 5 || cv.CommittedEUR != 1_000_000 {
				t.Fatalf("codes %v: %d selected, %d refused, committed %d €", codes, ok, refused, cv.CommittedEUR)
			}
		})
	}
}
