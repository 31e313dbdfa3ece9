package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// bearer signs in through the JSON route and returns the bearer token.
func (e *env) bearer(email, password string) string {
	e.t.Helper()
	var r struct {
		Token string `json:"token"`
	}
	e.call("POST", "/api/v1/auth/signin", "", map[string]any{"email": email, "password": password}, 200, &r)
	return r.Token
}

// pageAs fetches a page as token ("" anonymous) and checks its status.
func (e *env) pageAs(path, token string, want int) string {
	e.t.Helper()
	resp, b := e.send(e.request("GET", path, token, nil, "Accept", "text/html"))
	if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		e.t.Fatalf("GET %s: %d %s, want %d text/html: %.300s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want, b)
	}
	return string(b)
}

// fieldProblem asserts a 400 problem naming field.
func (e *env) fieldProblem(method, path, token string, body any, field string) {
	e.t.Helper()
	if p := e.problem(method, path, token, body, 400); p["field"] != field {
		e.t.Fatalf("%s %s %v: field %v, want %s", method, path, body, p["field"], field)
	}
}

// TestModerationRefusal: a moderator's refusal hides a proposal, at
// submission and once published, on SQLite and PostgreSQL. Anonymous
// visitors, another citizen and an expert get 404 on every route of the
// proposal (JSON and pages) and find it in no list, open data, mission or
// link; votes and comments on it are 404 for them and 409 for its author;
// its author and the administrators see it, with the reason (in French on
// the page); the audit log has the reason. A committee rejection after
// review stays public with its reason, and submitted -> rejected (which
// used to publish a moderated proposal) is gone.
func TestModerationRefusal(t *testing.T) {
	meas, _, _ := freshInflux(t)
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) { testRefusal(t, newEnv(t, b, meas, api.Config{SignInLimit: -1})) })
	}
}

func testRefusal(t *testing.T, e *env) {
	const pw = "un mot de passe solide"
	e.account(civic.RoleCitizen, "auteur@example.fr", pw)
	e.account(civic.RoleCitizen, "autre@example.fr", pw)
	author, other := e.bearer("auteur@example.fr", pw), e.bearer("autre@example.fr", pw)
	_, expert := e.user(civic.RoleExpert)
	_, planner := e.user(civic.RoleRiskManager)
	agentID, _ := e.field()

	sub := e.idea(author, 10, false)     // refused at submission
	pub := e.idea(author, 20, true)      // published, supported, commented, then found abusive
	waiting := e.idea(author, 30, false) // stays submitted
	public := e.idea(author, 40, true)   // stays public, later rejected by the committee
	e.call("POST", "/api/v1/ideas/"+pub.ID+"/vote", other, nil, 200, nil)
	var cm civic.Comment
	e.call("POST", "/api/v1/ideas/"+pub.ID+"/comments", other, map[string]any{"body": "Bonne idée"}, 201, &cm)
	e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
	e.call("POST", "/api/v1/links", e.admin, map[string]any{"proposal_id": pub.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, 201, nil)
	m := mission(agentID, square(7.2, 43.65))
	m["id"], m["proposal_ids"] = "crue-moderation", []string{sub.ID, pub.ID, waiting.ID, public.ID}
	e.call("POST", "/api/v1/missions", e.admin, m, 201, nil)

	// The request: status refused with a reason code from the closed set,
	// an optional note, nothing else.
	st := "/api/v1/ideas/" + sub.ID + "/status"
	e.fieldProblem("POST", st, e.admin, map[string]any{"status": "refused"}, "reason_code")
	e.fieldProblem("POST", st, e.admin, map[string]any{"status": "refused", "reason_code": "spam"}, "reason_code")
	e.fieldProblem("POST", st, e.admin, map[string]any{"status": "refused", "reason_code": "other", "note": strings.Repeat("n", 2001)}, "note")
	e.fieldProblem("POST", st, e.admin, map[string]any{"status": "refused", "reason_code": "other", "reason": "public"}, "reason")
	e.fieldProblem("POST", st, e.admin, map[string]any{"status": "published", "reason_code": "other"}, "reason_code")
	e.fieldProblem("POST", st, e.admin, map[string]any{"status": "published", "note": "x"}, "note")
	e.problem("POST", st, e.admin, map[string]any{"status": "rejected", "reason": "hors sujet"}, 409) // no longer a way to moderate
	e.problem("POST", st, expert, map[string]any{"status": "refused", "reason_code": "abusive"}, 404) // may not see it
	e.problem("POST", "/api/v1/ideas/"+pub.ID+"/status", expert, map[string]any{"status": "refused", "reason_code": "abusive"}, 403)
	if p, _ := e.st.Proposal(t.Context(), sub.ID); p.Status != civic.StatusSubmitted {
		t.Fatalf("refused requests changed the status to %s", p.Status)
	}

	const note = "Ce sujet relève de la commune."
	var got civic.Proposal
	e.call("POST", st, e.admin, map[string]any{"status": "refused", "reason_code": "off_topic", "note": note}, 200, &got)
	if got.Status != civic.StatusRefused || got.Moderation == nil || *got.Moderation != (civic.Moderation{Reason: civic.ReasonOffTopic, Note: note}) {
		t.Fatalf("refused: %+v", got)
	}
	e.call("POST", "/api/v1/ideas/"+pub.ID+"/status", e.admin, map[string]any{"status": "refused", "reason_code": "abusive"}, 200, &got)
	e.problem("POST", "/api/v1/ideas/"+pub.ID+"/status", e.admin, map[string]any{"status": "published"}, 409)

	viewers := []struct {
		name, token string
		sees        bool
	}{{"anonymous", "", false}, {"other citizen", other, false}, {"expert", expert, false}, {"author", author, true}, {"admin", e.admin, true}}
	reasons := map[string]string{sub.ID: "hors sujet", pub.ID: "contenu abusif"}
	for _, id := range []string{sub.ID, pub.ID} {
		base := "/api/v1/ideas/" + id
		for _, v := range viewers {
			for _, path := range []string{base, base + "/page", base + "/history", base + "/comments", base + "/nearby"} {
				if !v.sees {
					e.problem("GET", path, v.token, nil, 404)
				} else {
					e.call("GET", path, v.token, nil, 200, nil)
				}
			}
			if v.token != "" && !v.sees {
				e.problem("GET", base+"/vote", v.token, nil, 404)
			}
			page := e.pageAs("/idees/"+id, v.token, map[bool]int{true: 200, false: 404}[v.sees])
			if !v.sees {
				if strings.Contains(page, "Capteurs de crue") || strings.Contains(page, reasons[id]) {
					t.Errorf("%s: the 404 page of %s shows it", v.name, id)
				}
				continue
			}
			var p civic.Proposal
			e.call("GET", base, v.token, nil, 200, &p)
			if p.Status != civic.StatusRefused || p.Moderation == nil {
				t.Errorf("%s sees %s without its moderation: %+v", v.name, id, p)
			}
			want := []string{`<dd class="statut">refusée à la modération — motif : ` + reasons[id] + `</dd>`,
				"<strong>Cette proposition a été refusée à la modération</strong> — motif : " + reasons[id],
				"seuls son auteur·e et les modérateurs la voient", "Pas de soutien possible : la proposition a été refusée à la modération.",
				"Pas de commentaire possible : la proposition a été refusée à la modération."}
			if id == sub.ID {
				want = append(want, "Précision de la modération : « "+note+" »")
			}
			mustContain(t, v.name+" page of "+id, page, want...)
			if strings.Contains(page, `<form id="soutien"`) || strings.Contains(page, `<form id="commentaire"`) {
				t.Errorf("%s: a support or comment form on a refused proposal", v.name)
			}
		}
		var h []civic.StatusChange
		e.call("GET", base+"/history", author, nil, 200, &h)
		if last := h[len(h)-1]; last.To != civic.StatusRefused || last.ReasonCode == "" {
			t.Errorf("history of %s: %+v", id, last)
		}
		e.problem("GET", base+"/evidence", expert, nil, 404)
		e.problem("POST", base+"/reviews", expert, map[string]any{"impact": 3, "feasibility": 3, "cost": 3}, 404)
		e.pageAs("/expertise/"+id, expert, 404)
	}

	// Votes and comments: 404 for whoever may not see it, 409 for its author.
	for _, method := range []string{"POST", "DELETE"} {
		e.problem(method, "/api/v1/ideas/"+pub.ID+"/vote", other, nil, 404)
		e.problem(method, "/api/v1/ideas/"+pub.ID+"/vote", author, nil, 409)
	}
	e.problem("POST", "/api/v1/ideas/"+sub.ID+"/vote", other, nil, 404)
	e.problem("POST", "/api/v1/ideas/"+pub.ID+"/comments", other, map[string]any{"body": "Encore"}, 404)
	e.problem("POST", "/api/v1/ideas/"+pub.ID+"/comments", author, map[string]any{"body": "Pourquoi ?"}, 409)
	if n := e.votes(pub.ID); n != 1 {
		t.Fatalf("%d votes, want the 1 cast before the refusal", n)
	}
	if n := len(e.allComments(pub.ID)); n != 1 {
		t.Fatalf("%d comments, want the 1 posted before the refusal", n)
	}
	f := newFormClient(e)
	f.signIn("autre@example.fr", pw)
	tok := f.csrf("/idees/" + public.ID)
	resp, html := f.post("/idees/"+pub.ID+"/soutien", url.Values{"action": {"retirer"}, "csrf": {tok}})
	wantPage(t, "support form", resp, html, 404, "Erreur : Cette proposition n'existe pas")
	resp, html = f.post("/idees/"+pub.ID+"/commentaires", url.Values{"body": {"Encore"}, "csrf": {tok}})
	wantPage(t, "comment form", resp, html, 404, "Erreur : Cette proposition n'existe pas")

	// Lists, counts and open data: public proposals only.
	hidden := []string{sub.ID, pub.ID, waiting.ID}
	absent := func(what, body string) {
		t.Helper()
		for _, id := range hidden {
			if strings.Contains(body, id) {
				t.Errorf("%s shows %s", what, id)
			}
		}
		if !strings.Contains(body, public.ID) {
			t.Errorf("%s lacks the public proposal", what)
		}
	}
	for _, v := range viewers {
		_, b := e.do("GET", "/api/v1/ideas", v.token, nil)
		absent(v.name+": GET /api/v1/ideas", string(b))
		list := e.pageAs("/idees", v.token, 200)
		absent(v.name+": /idees", list)
		mustContain(t, v.name+": /idees", list, "Propositions publiques (1)")
	}
	e.problem("GET", "/api/v1/ideas?status=refused", author, nil, 403)
	var refused []civic.Proposal
	e.call("GET", "/api/v1/ideas?status=refused", e.admin, nil, 200, &refused)
	if len(refused) != 2 || refused[0].Moderation == nil || refused[1].Moderation == nil {
		t.Fatalf("admin's refused list: %+v", refused)
	}
	for _, path := range []string{"/opendata/proposals.json", "/opendata/proposals.csv"} {
		_, b := e.do("GET", path, "", nil)
		absent(path, string(b))
	}

	// Missions: the ids of proposals not public only to who may see them;
	// the pages count the one waiting for moderation, never the refused ones.
	all := []string{sub.ID, pub.ID, waiting.ID, public.ID}
	slices.Sort(all)
	for _, v := range append(viewers, struct {
		name, token string
		sees        bool
	}{"risk manager", planner, false}) {
		want := []string{public.ID}
		if v.sees {
			want = all
		}
		var one civic.Mission
		e.call("GET", "/api/v1/missions/crue-moderation", v.token, nil, 200, &one)
		var list []civic.Mission
		e.call("GET", "/api/v1/missions", v.token, nil, 200, &list)
		if len(list) != 1 {
			t.Fatalf("%d missions", len(list))
		}
		if !slices.Equal(one.ProposalIDs, want) || !slices.Equal(list[0].ProposalIDs, want) {
			t.Errorf("%s: mission proposal ids %v (one) and %v (list), want %v", v.name, one.ProposalIDs, list[0].ProposalIDs, want)
		}
		for _, path := range []string{"/missions", "/missions/crue-moderation"} {
			page := e.pageAs(path, v.token, 200)
			if v.sees {
				mustContain(t, v.name+" "+path, page, `<a href="/idees/`+sub.ID+`">Capteurs de crue sur le Var</a> (refusée à la modération)`,
					`<a href="/idees/`+waiting.ID+`">Capteurs de crue sur le Var</a> (déposée)`)
				continue
			}
			absent(v.name+" "+path, page)
			mustContain(t, v.name+" "+path, page, "; 1 non publique<") // the submitted one, not the two refused
		}
	}
	e.fieldProblem("POST", "/api/v1/missions", planner, map[string]any{"id": "m2", "title": "Autre vol", "kind": "flood_survey", "area": square(7.2, 43.65),
		"planned_from": m["planned_from"], "planned_to": m["planned_to"], "agent_id": agentID, "site_id": "var-estuaire", "drone_id": "drone-1",
		"proposal_ids": []string{sub.ID}}, "proposal_ids")

	// Links: none for a proposal one may not see, none to be made to it.
	var links []civic.Link
	e.call("GET", "/api/v1/links?proposal="+pub.ID, "", nil, 200, &links)
	if len(links) != 0 {
		t.Fatalf("anonymous links of a refused proposal: %+v", links)
	}
	e.call("GET", "/api/v1/links?proposal="+pub.ID, e.admin, nil, 200, &links)
	if len(links) != 1 {
		t.Fatalf("admin's links of a refused proposal: %+v", links)
	}
	e.fieldProblem("POST", "/api/v1/links", expert, map[string]any{"proposal_id": sub.ID, "site_id": "var-estuaire", "device_id": "level-1", "quantity": "water_level"}, "proposal_id")

	// The audit log names the reasons.
	var audit []civic.AuditEntry
	e.call("GET", "/api/v1/audit?limit=1000", e.admin, nil, 200, &audit)
	want := map[string]string{sub.ID: "submitted->refused reason_code=off_topic note=" + note, pub.ID: "published->refused reason_code=abusive"}
	for _, a := range audit {
		if a.Action == "proposal.status" && want[a.Target] == a.Detail {
			delete(want, a.Target)
		}
	}
	if len(want) != 0 {
		t.Errorf("audit log lacks %v", want)
	}

	// A committee rejection after review stays public, with its reason.
	for _, to := range []string{"shortlisted", "under_review"} {
		e.call("POST", "/api/v1/ideas/"+public.ID+"/status", e.admin, map[string]any{"status": to}, 200, nil)
	}
	const why = "Coût disproportionné au regard du bénéfice."
	e.call("POST", "/api/v1/ideas/"+public.ID+"/status", expert, map[string]any{"status": "rejected", "reason": why}, 200, nil)
	var rej civic.Proposal
	e.call("GET", "/api/v1/ideas/"+public.ID, "", nil, 200, &rej)
	if rej.Status != civic.StatusRejected || rej.RejectionReason != why || rej.Moderation != nil {
		t.Fatalf("committee rejection: %+v", rej)
	}
	mustContain(t, "rejected page", e.pageAs("/idees/"+public.ID, "", 200), "non retenue — motif : "+why)
	_, csv := e.do("GET", "/opendata/proposals.csv", "", nil)
	mustContain(t, "open data CSV", string(csv), public.ID+",", ",rejected,"+why+",")
	var ls []civic.Proposal
	e.call("GET", "/api/v1/ideas?status=rejected", "", nil, 200, &ls)
	if len(ls) != 1 || ls[0].ID != public.ID {
		t.Fatalf("public rejected list %+v", ls)
	}
}

// TestCommentModeration: a hidden comment carries its reason code, which its
// author sees next to it (JSON and page); nobody else but the moderators
// sees the comment; validation names the field; the audit log has the
// reason; approving it again clears the moderation. SQLite and PostgreSQL.
func TestCommentModeration(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			_, author := e.user(civic.RoleCitizen)
			_, other := e.user(civic.RoleCitizen)
			p := e.idea(other, 10, true)
			var mine, theirs civic.Comment
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", author, map[string]any{"body": "Mon chat est roux."}, 201, &mine)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", other, map[string]any{"body": "Merci pour vos avis."}, 201, &theirs)
			e.call("PUT", "/api/v1/comments/"+theirs.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)

			st := "/api/v1/comments/" + mine.ID + "/status"
			e.fieldProblem("PUT", st, e.admin, map[string]any{"status": "hidden"}, "reason_code")
			e.fieldProblem("PUT", st, e.admin, map[string]any{"status": "hidden", "reason_code": "rude"}, "reason_code")
			e.fieldProblem("PUT", st, e.admin, map[string]any{"status": "approved", "reason_code": "off_topic"}, "reason_code")
			e.fieldProblem("PUT", st, e.admin, map[string]any{"status": "approved", "note": "x"}, "note")
			e.problem("PUT", st, author, map[string]any{"status": "hidden", "reason_code": "off_topic"}, 403)
			var hid civic.Comment
			e.call("PUT", st, e.admin, map[string]any{"status": "hidden", "reason_code": "off_topic", "note": "Parlez du Var."}, 200, &hid)
			if hid.Status != civic.CommentHidden || hid.Moderation == nil || *hid.Moderation != (civic.Moderation{Reason: civic.ReasonOffTopic, Note: "Parlez du Var."}) {
				t.Fatalf("hidden comment %+v", hid)
			}

			list := func(token string) (ids []string, cs []civic.Comment) {
				resp, b := e.do("GET", "/api/v1/ideas/"+p.ID+"/comments", token, nil)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("comments: %d %s", resp.StatusCode, b)
				}
				if err := jsonUnmarshal(b, &cs); err != nil {
					t.Fatal(err)
				}
				for _, c := range cs {
					ids = append(ids, c.ID)
				}
				if resp.Header.Get("X-Total-Count") != strconv.Itoa(len(cs)) {
					t.Errorf("X-Total-Count %s for %d comments", resp.Header.Get("X-Total-Count"), len(cs))
				}
				return ids, cs
			}
			for _, tok := range []string{"", other} {
				if ids, _ := list(tok); !slices.Equal(ids, []string{theirs.ID}) {
					t.Errorf("comments seen by another: %v", ids)
				}
				page := e.pageAs("/idees/"+p.ID, tok, 200)
				if strings.Contains(page, "Mon chat est roux.") || strings.Contains(page, "masqué") {
					t.Error("a hidden comment on someone else's page")
				}
				mustContain(t, "page", page, "Commentaires (1)", "Merci pour vos avis.")
			}
			_, cs := list(author) // both written within the same millisecond, maybe: any order
			i := slices.IndexFunc(cs, func(c civic.Comment) bool { return c.ID == mine.ID })
			j := slices.IndexFunc(cs, func(c civic.Comment) bool { return c.ID == theirs.ID })
			if len(cs) != 2 || i < 0 || j < 0 || cs[i].Moderation == nil || cs[i].Moderation.Reason != civic.ReasonOffTopic || cs[j].Moderation != nil {
				t.Errorf("the author's comments %+v", cs)
			}
			if ids, _ := list(e.admin); len(ids) != 2 {
				t.Errorf("the admin's comments %v", ids)
			}
			mustContain(t, "author's page", e.pageAs("/idees/"+p.ID, author, 200), "Commentaires (1)", `class="masque"`, "Mon chat est roux.",
				`<strong class="moderation">votre commentaire, masqué par la modération : hors sujet</strong> (précision : « Parlez du Var. »)`,
				"visible par vous seul·e et les modérateurs")

			var audit []civic.AuditEntry
			e.call("GET", "/api/v1/audit?limit=1000", e.admin, nil, 200, &audit)
			if !slices.ContainsFunc(audit, func(a civic.AuditEntry) bool {
				return a.Action == "comment.moderate" && a.Target == mine.ID && a.Detail == "hidden reason_code=off_topic note=Parlez du Var."
			}) {
				t.Errorf("audit log lacks the hiding with its reason")
			}

			var back civic.Comment
			e.call("PUT", st, e.admin, map[string]any{"status": "approved"}, 200, &back)
			if back.Moderation != nil {
				t.Fatalf("approved comment keeps its moderation: %+v", back)
			}
			if ids, _ := list(""); len(ids) != 2 {
				t.Errorf("approved again, public: %v", ids)
			}
		})
	}
}
