package api_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestProposalCampaignRules: a proposal goes into a running campaign only;
// a call for organisations' projects takes them from an administrator, not
// from citizens. Refusals are problem+json and store nothing.
func TestProposalCampaignRules(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	_, citizen := e.user(civic.RoleCitizen)
	now := time.Now().UTC()
	campaign := func(id string, kind civic.CampaignKind, starts, ends time.Time) {
		e.call("POST", "/api/v1/campaigns", e.admin, map[string]any{"id": id, "name": id, "kind": kind,
			"starts": starts, "ends": ends}, 201, nil)
	}
	campaign("closed-2025", civic.CampaignIdeas, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1))
	campaign("future-2027", civic.CampaignIdeas, now.AddDate(0, 1, 0), now.AddDate(1, 0, 0))
	campaign("projets-numeriques", civic.CampaignProjects, now.AddDate(0, 0, -1), now.AddDate(0, 6, 0))
	idea := func(campaignID string) map[string]any {
		return map[string]any{"campaign_id": campaignID, "theme_id": "environnement-risques",
			"title": "Capteurs de crue", "body": "Mesurer le niveau d'eau.", "estimated_cost_eur": 1000}
	}
	count := func() int {
		ps, err := e.st.Proposals(context.Background(), civic.ProposalFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, p := range ps {
			if p.CampaignID != e.campaign {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		campaign, token string
		status          int
		code            string
	}{
		{"closed-2025", citizen, 409, civic.ECONFLICT},
		{"future-2027", citizen, 409, civic.ECONFLICT},
		{"closed-2025", e.admin, 409, civic.ECONFLICT},
		{"projets-numeriques", citizen, 403, civic.EFORBIDDEN},
		{"no-such-campaign", citizen, 400, civic.EINVALID},
	} {
		if pr := e.problem("POST", "/api/v1/ideas", tc.token, idea(tc.campaign), tc.status); pr["code"] != tc.code {
			t.Errorf("%s: %v", tc.campaign, pr)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d proposals stored by refused submissions", n)
	}
	e.call("POST", "/api/v1/ideas", e.admin, idea("projets-numeriques"), 201, nil)
	e.call("POST", "/api/v1/ideas", citizen, idea(e.campaign), 201, nil)
	if n := count(); n != 1 {
		t.Fatalf("%d project proposals, want 1", n)
	}
}

// TestContributionRateLimit: proposals and comments share one budget per
// account (they fill the moderation queue), over the JSON routes and the
// page forms alike; past it, 429 problem+json with Retry-After, or a French
// page on the form; other accounts are unaffected, and nothing is stored.
func TestContributionRateLimit(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{ContributionLimit: 3})
	const pw = "un mot de passe solide"
	sam := e.account(civic.RoleCitizen, "sam@example.fr", pw)
	f := newFormClient(e)
	f.signIn("sam@example.fr", pw)
	_, other := e.user(civic.RoleCitizen)
	p := e.idea(other, 1000, true) // other's 1st contribution
	page := "/idees/" + p.ID
	tok := f.csrf(page)

	// sam: a comment by form, then a proposal by form, then a comment by Form: 3.
	resp, html := f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {"Premier commentaire"}})
	if resp.StatusCode != 303 {
		t.Fatalf("comment 1: %d %.300s", resp.StatusCode, html)
	}
	resp, html = f.post("/idees/nouvelle", url.Values{"csrf": {tok}, "campaign_id": {e.campaign}, "theme_id": {"environnement-risques"},
		"title": {"Bancs à l'ombre"}, "body": {"Des bancs sous les arbres."}, "estimated_cost_eur": {"2000"}})
	if resp.StatusCode != 303 {
		t.Fatalf("proposal: %d %.300s", resp.StatusCode, html)
	}
	resp, _ = f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {"Deuxième commentaire"}})
	if resp.StatusCode != 303 {
		t.Fatalf("comment 2: %d", resp.StatusCode)
	}
	// The 4th, by Form: a French 429 page; nothing stored.
	resp, html = f.post(page+"/commentaires", url.Values{"csrf": {tok}, "body": {"Troisième commentaire"}})
	wantPage(t, "form over the limit", resp, html, 429, "Trop de demandes")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on the form's 429")
	}
	comments, err := e.st.Comments(context.Background(), p.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(comments) != 2 {
		t.Fatalf("%d comments stored, want 2", len(comments))
	}
	// The JSON route shares sam's budget (a bearer session of the same account).
	var si struct {
		Token string `json:"token"`
	}
	e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": sam.Email, "password": pw}, 200, &si)
	samTok := si.Token
	if pr := e.problem("POST", "/api/v1/ideas", samTok, map[string]any{"campaign_id": e.campaign, "theme_id": "environnement-risques",
		"title": "Encore une idée", "body": "Texte.", "estimated_cost_eur": 10}, 429); pr["code"] != civic.ETOOMANY {
		t.Fatalf("JSON over the limit: %v", pr)
	}
	// Another account still contributes.
	e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", other, map[string]any{"body": "Je soutiens."}, 201, nil)
}
