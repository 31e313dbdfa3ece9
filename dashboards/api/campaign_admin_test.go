package api_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestCampaignAdmin: a GREEN Deal campaign with its own themes (a proposal
// of another theme is refused), closing its vote (supports refused
// afterwards; closing twice 409), the shortlist, and the public results:
// the selected against the budget, the rejected with their reasons; on
// SQLite and PostgreSQL. Citizens get 403; forged ids 404.
func TestCampaignAdmin(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{VoteLimit: -1})
			_, citizen := e.user(civic.RoleCitizen)
			theme := "biodiversite-" + civic.NewID()
			e.call("POST", "/api/v1/themes", e.admin, map[string]any{"id": theme, "name_fr": "Biodiversité"}, 201, nil)
			body := map[string]any{"name": "GREEN Deal", "starts": time.Now().Add(-time.Hour), "ends": time.Now().Add(24 * time.Hour),
				"budget_eur": 500_000, "shortlist_min_votes": 1, "theme_ids": []string{theme}}
			e.problem("POST", "/api/v1/campaigns", citizen, body, 403)
			bad := map[string]any{"name": "X", "starts": time.Now(), "ends": time.Now().Add(time.Hour), "theme_ids": []string{"n'existe-pas"}}
			e.fieldProblem("POST", "/api/v1/campaigns", e.admin, bad, "theme_ids")
			var green civic.Campaign
			e.call("POST", "/api/v1/campaigns", e.admin, body, 201, &green)
			var themes []string
			e.call("GET", "/api/v1/campaigns/"+green.ID+"/themes", "", nil, 200, &themes)
			if !slices.Equal(themes, []string{theme}) {
				t.Fatalf("themes %v", themes)
			}
			propose := func(themeID string, want int) *civic.Proposal {
				var p civic.Proposal
				e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": green.ID, "theme_id": themeID, "title": "Haies bocagères", "body": "Planter.", "estimated_cost_eur": 200_000}, want, &p)
				return &p
			}
			e.fieldProblem("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": green.ID, "theme_id": "environnement-risques", "title": "Haies bocagères", "body": "Planter des haies."}, "theme_id")
			p1, p2 := propose(theme, 201), propose(theme, 201)
			for _, p := range []*civic.Proposal{p1, p2} {
				e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
			}
			_, voter := e.user(civic.RoleCitizen)
			e.call("POST", "/api/v1/ideas/"+p1.ID+"/vote", voter, nil, 200, nil)
			e.call("POST", "/api/v1/ideas/"+p2.ID+"/vote", voter, nil, 200, nil)

			var sl map[string][]string
			e.call("POST", "/api/v1/campaigns/"+green.ID+"/shortlist", e.admin, nil, 200, &sl)
			if len(sl["shortlisted"]) != 2 {
				t.Fatalf("shortlist %v", sl)
			}
			e.problem("POST", "/api/v1/campaigns/"+green.ID+"/close", citizen, nil, 403)
			e.problem("POST", "/api/v1/campaigns/forged/close", e.admin, nil, 404)
			var closed civic.Campaign
			e.call("POST", "/api/v1/campaigns/"+green.ID+"/close", e.admin, nil, 200, &closed)
			if closed.Ends.After(time.Now()) {
				t.Fatalf("still open until %s", closed.Ends)
			}
			e.problem("POST", "/api/v1/campaigns/"+green.ID+"/close", e.admin, nil, 409)
			e.problem("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": green.ID, "theme_id": theme, "title": "Haies bocagères", "body": "Planter des haies."}, 409)

			for _, p := range []*civic.Proposal{p1, p2} {
				e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "under_review"}, 200, nil)
			}
			e.call("POST", "/api/v1/ideas/"+p1.ID+"/status", e.admin, map[string]any{"status": "selected"}, 200, nil)
			e.call("POST", "/api/v1/ideas/"+p2.ID+"/status", e.admin, map[string]any{"status": "rejected", "reason": "Déjà prévu par la commune."}, 200, nil)
			var r civic.Results
			e.call("GET", "/api/v1/campaigns/"+green.ID+"/results", "", nil, 200, &r)
			if len(r.Selected) != 1 || r.Selected[0].ID != p1.ID || r.CommittedEUR != 200_000 || r.RemainingEUR != 300_000 ||
				len(r.Rejected) != 1 || r.Rejected[0].RejectionReason != "Déjà prévu par la commune." {
				t.Fatalf("results %+v", r)
			}
			e.problem("GET", "/api/v1/campaigns/forged/results", "", nil, 404)
			page := e.pageAs("/appels/"+url.PathEscape(green.ID)+"/resultats", "", 200)
			mustContain(t, "results page", page, "Résultats : GREEN Deal", "200\u202f000 €", "40 %", "Déjà prévu par la commune.", `id="retenue-`+p1.ID+`"`)
			if strings.Contains(page, `id="retenue-`+p2.ID+`"`) {
				t.Error("a rejected proposal among the selected")
			}

			var audit []civic.AuditEntry
			e.call("GET", "/api/v1/audit/search?action=campaign.", e.admin, nil, 200, &audit)
			var actions []string
			for _, a := range audit {
				if a.Target == green.ID {
					actions = append(actions, a.Action)
				}
			}
			slices.Sort(actions)
			if !slices.Equal(actions, []string{"campaign.close", "campaign.create", "campaign.themes"}) {
				t.Errorf("audit %v", actions)
			}
		})
	}
}
