package api_test

import (
	"context"
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

var agentOption = regexp.MustCompile(`<option value="([^"]*)"[^>]*>([^<]*)</option>`)

// agentSelect is the agent select of the plan form, or "".
func agentSelect(page string) string {
	i := strings.Index(page, `<select id="agent" name="agent_id"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], "</select>")
	return page[i : i+j]
}

// TestMissionPlanAgentList (issue 13): without JavaScript, the plan form
// offers the field agents' accounts in a select (by name, not the blocked
// ones, no other role); the agent chosen plans the mission; a non-agent or an
// unknown id posted is refused in French beside the select. With more
// agents than a list can hold, the form asks for the e-mail address, which
// still plans.
func TestMissionPlanAgentList(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			e.field() // an agent named "agent"
			ctx := context.Background()
			newUser := func(role civic.Role, name string) *civic.User {
				now := time.Now().UTC()
				u := &civic.User{Email: civic.NewID() + "@example.fr", Name: name, Role: role, PasswordHash: "-", EmailVerified: &now}
				if err := e.st.CreateUser(ctx, u); err != nil {
					t.Fatal(err)
				}
				return u
			}
			zoe := newUser(civic.RoleAgent, "Zoé <Pilote>")
			ana := newUser(civic.RoleAgent, "Ana Dupont")
			blocked := newUser(civic.RoleAgent, "Bloqué")
			admin, _ := e.user(civic.RoleAdmin)
			if err := e.st.BlockUser(ctx, admin, blocked.ID, true, "compte compromis", time.Now()); err != nil {
				t.Fatal(err)
			}
			citizen := newUser(civic.RoleCitizen, "Citoyen")
			rmMail := address("risques")
			rm := e.account(civic.RoleRiskManager, rmMail, "mot de passe des risques")
			f := newFormClient(e)
			f.signIn(rmMail, "mot de passe des risques")

			resp, page := f.get("/missions/nouvelle")
			wantPage(t, "plan form", resp, page, 200, `<label for="agent">Agent de terrain (obligatoire)</label>`)
			sel := agentSelect(page)
			if sel == "" || strings.Contains(page, `name="agent" type="email"`) {
				t.Fatalf("no agent select, or the e-mail field too: %.2000s", page[strings.Index(page, "<main"):])
			}
			var labels []string
			ids := map[string]bool{}
			for _, m := range agentOption.FindAllStringSubmatch(sel, -1) {
				if m[1] != "" {
					labels, ids[m[1]] = append(labels, html.UnescapeString(m[2])), true
				}
			}
			if len(labels) != 3 || !strings.HasPrefix(labels[0], "agent (") || labels[1] != "Ana Dupont ("+ana.Email+")" ||
				labels[2] != "Zoé <Pilote> ("+zoe.Email+")" {
				t.Fatalf("agents offered %q: want agent, Ana, Zoé by name", labels)
			}
			if ids[blocked.ID] || ids[citizen.ID] || ids[rm.ID] {
				t.Fatal("a blocked agent or another role offered")
			}
			if strings.Contains(sel, "<Pilote>") {
				t.Fatal("a name not escaped")
			}
			csrf := csrfInput.FindStringSubmatch(page)[1]

			post := func(agentID string) (int, string, string) {
				v := planValues(csrf, "")
				v.Del("agent")
				v.Set("agent_id", agentID)
				resp, page := f.post("/missions/nouvelle", v)
				return resp.StatusCode, resp.Header.Get("Location"), page
			}
			code, loc, page := post(zoe.ID)
			m := missionLocation.FindStringSubmatch(loc)
			if code != 303 || m == nil {
				t.Fatalf("plan with the list: %d %q %.600s", code, loc, page)
			}
			var got civic.Mission
			e.call("GET", "/api/v1/missions/"+m[1], "", nil, 200, &got)
			if got.AgentID != zoe.ID {
				t.Fatalf("agent %q, want Zoé's %q", got.AgentID, zoe.ID)
			}
			for _, bad := range []string{rm.ID, citizen.ID, blocked.ID, "inconnu", strings.Repeat("x", 5000), "' OR 1=1 --"} {
				code, _, page := post(bad)
				if bad == blocked.ID && code == 303 {
					continue // a blocked agent is still an agent: only not offered
				}
				if code != 400 || !strings.Contains(page, "choisissez-le dans la liste") ||
					!regexp.MustCompile(`<select id="agent" name="agent_id" required aria-invalid="true"`).MatchString(page) {
					t.Errorf("agent_id %.40q: %d, want 400 beside the select: %.800s", bad, code, page)
				}
			}
			// Without any field: required.
			if code, _, page := post(""); code != 400 || !strings.Contains(page, `aria-invalid="true"`) {
				t.Errorf("no agent: %d", code)
			}

			// Too many agents for a list: the e-mail address field.
			for i := range 100 {
				newUser(civic.RoleAgent, fmt.Sprintf("Agent %03d", i))
			}
			_, page = f.get("/missions/nouvelle")
			if agentSelect(page) != "" || !strings.Contains(page, `<input id="agent" name="agent" type="email"`) ||
				!strings.Contains(page, "trop nombreux pour une liste") {
				t.Fatalf("over %d agents, no e-mail field: %.3000s", 100, page[strings.Index(page, "<main"):])
			}
			v := planValues(csrf, ana.Email)
			if resp, page := f.post("/missions/nouvelle", v); resp.StatusCode != 303 {
				t.Fatalf("plan by e-mail: %d %.600s", resp.StatusCode, page)
			}
		})
	}
}
