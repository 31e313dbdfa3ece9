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

// TestPeopleAndBlocking: administrators search accounts (plain text: LIKE
// wildcards and SQL in the query match nothing more), change roles, block
// an account (its bearer session stops working, sign-in is refused with
// the French reason, it cannot contribute) and unblock it; never their own,
// never the last administrator not blocked; citizens reach none of it; the
// audit search filters by actor, action prefix and dates; on SQLite and
// PostgreSQL.
func TestPeopleAndBlocking(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{SignInLimit: -1})
			const password = "un mot de passe solide"
			mail := "zoe_" + civic.NewID() + "@example.fr"
			zoe := e.account(civic.RoleCitizen, mail, password)
			zoeTok := e.bearer(mail, password)
			other := e.account(civic.RoleCitizen, "100pourcent-"+civic.NewID()+"@example.fr", password)
			_, citizen := e.user(civic.RoleCitizen)

			search := func(q string) []civic.Person {
				t.Helper()
				var ps []civic.Person
				e.call("GET", "/api/v1/users?"+q, e.admin, nil, 200, &ps)
				return ps
			}
			ids := func(ps []civic.Person) (out []string) {
				for _, p := range ps {
					out = append(out, p.ID)
				}
				return out
			}
			if got := ids(search("q=" + url.QueryEscape(strings.ToUpper(mail[:10])))); !slices.Equal(got, []string{zoe.ID}) {
				t.Errorf("search by address: %v", got)
			}
			for _, q := range []string{"%", "_", "' OR '1'='1", "%' OR 1=1 --", `\`} {
				for _, p := range search("q=" + url.QueryEscape(q) + "&limit=200") {
					if !strings.Contains(strings.ToLower(p.Name+p.Email), strings.ToLower(q)) {
						t.Errorf("q=%q matched %s %s", q, p.Name, p.Email)
					}
				}
			}
			if ps := search("role=citizen&limit=200"); !slices.Contains(ids(ps), other.ID) || slices.ContainsFunc(ps, func(p civic.Person) bool { return p.Role != civic.RoleCitizen }) {
				t.Errorf("role filter %v", ids(ps))
			}
			e.fieldProblem("GET", "/api/v1/users?role=pirate", e.admin, nil, "role")
			e.fieldProblem("GET", "/api/v1/users?q="+strings.Repeat("x", 101), e.admin, nil, "q")
			e.fieldProblem("GET", "/api/v1/users?blocked=peut-etre", e.admin, nil, "blocked")
			for _, r := range [][2]string{{"GET", "/api/v1/users"}, {"GET", "/api/v1/users/" + zoe.ID}, {"PUT", "/api/v1/users/" + zoe.ID + "/block"}, {"GET", "/api/v1/audit/search"}} {
				e.problem(r[0], r[1], citizen, map[string]any{"blocked": true, "reason": "x"}, 403)
			}
			e.problem("GET", "/api/v1/users/forged", e.admin, nil, 404)
			e.problem("PUT", "/api/v1/users/forged/block", e.admin, map[string]any{"blocked": true, "reason": "x"}, 404)

			// Make zoe an expert, then block her.
			e.call("PUT", "/api/v1/users/"+zoe.ID+"/role", e.admin, map[string]any{"role": "expert"}, 204, nil)
			e.fieldProblem("PUT", "/api/v1/users/"+zoe.ID+"/block", e.admin, map[string]any{"blocked": true}, "reason")
			var p civic.Person
			e.call("PUT", "/api/v1/users/"+zoe.ID+"/block", e.admin, map[string]any{"blocked": true, "reason": "Messages haineux répétés."}, 200, &p)
			if p.Blocked == nil || p.BlockedReason != "Messages haineux répétés." || p.Role != civic.RoleExpert {
				t.Fatalf("blocked person %+v", p)
			}
			e.problem("GET", "/api/v1/me", zoeTok, nil, 401) // the session is gone
			pr := e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": mail, "password": password}, 403)
			if !strings.Contains(pr["detail_fr"].(string), "suspendu") {
				t.Errorf("sign-in refusal %v", pr)
			}
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": mail, "password": "wrong password!"}, 401) // no hint without the password
			if ps := search("blocked=true&limit=200"); !slices.Contains(ids(ps), zoe.ID) || slices.Contains(ids(ps), other.ID) {
				t.Errorf("blocked filter %v", ids(ps))
			}
			var back civic.Person
			e.call("PUT", "/api/v1/users/"+zoe.ID+"/block", e.admin, map[string]any{"blocked": false}, 200, &back)
			if back.Blocked != nil || back.BlockedReason != "" {
				t.Fatalf("unblocked %+v", back)
			}
			e.call("POST", "/api/v1/ideas/"+e.idea(citizen, 1, true).ID+"/comments", e.bearer(mail, password), map[string]any{"body": "De retour."}, 201, nil)

			// Never oneself; never the last administrator not blocked.
			var me civic.User
			e.call("GET", "/api/v1/me", e.admin, nil, 200, &me)
			e.problem("PUT", "/api/v1/users/"+me.ID+"/block", e.admin, map[string]any{"blocked": true, "reason": "x"}, 403)
			admin2, admin2Tok := e.user(civic.RoleAdmin)
			e.call("PUT", "/api/v1/users/"+me.ID+"/block", admin2Tok, map[string]any{"blocked": true, "reason": "Départ."}, 200, nil)
			if pr := e.problem("PUT", "/api/v1/users/"+admin2.ID+"/role", admin2Tok, map[string]any{"role": "citizen"}, 409); pr["rule"] != "last_admin" {
				t.Errorf("demoting the last active administrator: %v", pr)
			}

			var es []civic.AuditEntry
			e.call("GET", "/api/v1/audit/search?action=user.&actor="+admin2.ID, admin2Tok, nil, 200, &es)
			if len(es) != 2 || !slices.ContainsFunc(es, func(a civic.AuditEntry) bool { return a.Action == "user.block" && a.Target == me.ID }) ||
				!slices.ContainsFunc(es, func(a civic.AuditEntry) bool { return a.Action == "user.create" }) {
				t.Errorf("audit by actor and prefix %+v", es)
			}
			e.call("GET", "/api/v1/audit/search?action=user.block&from="+time.Now().UTC().Format(time.DateOnly)+"&to="+time.Now().UTC().Format(time.DateOnly), admin2Tok, nil, 200, &es)
			if len(es) != 2 || !slices.ContainsFunc(es, func(a civic.AuditEntry) bool {
				return a.Target == zoe.ID && strings.Contains(a.Detail, "reason=Messages haineux répétés.") && strings.Contains(a.Detail, "sessions_revoked=1")
			}) {
				t.Errorf("audit of the day %+v", es)
			}
			e.call("GET", "/api/v1/audit/search?action=user.%25", admin2Tok, nil, 200, &es)
			if len(es) != 0 {
				t.Errorf("a LIKE wildcard in action matched %d", len(es))
			}
			e.call("GET", "/api/v1/audit/search?from=2999-01-01", admin2Tok, nil, 200, &es)
			if len(es) != 0 {
				t.Errorf("future entries %d", len(es))
			}
			e.fieldProblem("GET", "/api/v1/audit/search?from=hier", admin2Tok, nil, "from")
			e.fieldProblem("GET", "/api/v1/audit/search?from=2026-02-01&to=2026-01-01", admin2Tok, nil, "to")
		})
	}
}
