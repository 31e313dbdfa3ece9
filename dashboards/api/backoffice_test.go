package api_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
)

// TestFlagsAndQueue: citizens flag a public proposal and an approved
// comment (once each, never their own, never what they cannot see); the
// queue lists submitted proposals, pending comments and flagged items, the
// most flagged first; decisions close the flags, write the history and
// queue the refusal's mail to the author; citizens get 403 on every
// moderation route and forged ids 404; on SQLite and PostgreSQL.
func TestFlagsAndQueue(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{ContributionLimit: -1})
			author, authorTok := e.user(civic.RoleCitizen)
			_, c1 := e.user(civic.RoleCitizen)
			_, c2 := e.user(civic.RoleCitizen)
			p := e.idea(authorTok, 10, true)
			waiting := e.idea(c1, 10, false)
			var cm, pending civic.Comment
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", authorTok, map[string]any{"body": "Un commentaire injurieux."}, 201, &cm)
			e.call("PUT", "/api/v1/comments/"+cm.ID+"/status", e.admin, map[string]any{"status": "approved"}, 200, nil)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/comments", c2, map[string]any{"body": "En attente."}, 201, &pending)

			flag := "/api/v1/comments/" + cm.ID + "/flag"
			e.fieldProblem("POST", flag, c1, map[string]any{}, "reason_code")
			e.fieldProblem("POST", flag, c1, map[string]any{"reason_code": "' OR 1=1 --"}, "reason_code")
			e.fieldProblem("POST", flag, c1, map[string]any{"reason_code": "abusive", "note": strings.Repeat("x", 501)}, "note")
			e.problem("POST", flag, "", map[string]any{"reason_code": "abusive"}, 401)
			e.problem("POST", flag, authorTok, map[string]any{"reason_code": "abusive"}, 403) // one's own
			var f civic.Flag
			e.call("POST", flag, c1, map[string]any{"reason_code": "abusive", "note": "Insulte."}, 201, &f)
			if f.Kind != civic.TargetComment || f.TargetID != cm.ID || f.Reason != civic.ReasonAbusive {
				t.Fatalf("flag %+v", f)
			}
			e.problem("POST", flag, c1, map[string]any{"reason_code": "off_topic"}, 409) // once per person
			e.call("POST", flag, c2, map[string]any{"reason_code": "off_topic"}, 201, nil)
			e.call("POST", "/api/v1/ideas/"+p.ID+"/flag", c1, map[string]any{"reason_code": "duplicate"}, 201, nil)
			// What one cannot see cannot be flagged: a pending comment, a
			// submitted proposal, forged ids.
			for _, path := range []string{"/api/v1/comments/" + pending.ID + "/flag", "/api/v1/ideas/" + waiting.ID + "/flag",
				"/api/v1/comments/nope/flag", "/api/v1/ideas/%27%3B%20DROP%20TABLE%20users%3B--/flag"} {
				e.problem("POST", path, c2, map[string]any{"reason_code": "abusive"}, 404)
			}

			// The flagger's export lists their flags.
			var ex struct {
				Extra struct {
					Flags []civic.Flag `json:"flags"`
				} `json:"extra"`
			}
			e.call("GET", "/api/v1/me/export", c1, nil, 200, &ex)
			if len(ex.Extra.Flags) != 2 {
				t.Errorf("export flags %+v", ex.Extra.Flags)
			}
			// Citizens reach no moderation route.
			for _, r := range [][2]string{{"GET", "/api/v1/moderation/queue"}, {"GET", "/api/v1/moderation/history"}, {"POST", "/api/v1/moderation/comment/" + cm.ID + "/decision"}} {
				e.problem(r[0], r[1], c1, map[string]any{"decision": "refuse", "reason_code": "abusive"}, 403)
			}

			var q []civic.QueueItem
			e.call("GET", "/api/v1/moderation/queue", e.admin, nil, 200, &q)
			keys := make([]string, len(q))
			for i, it := range q {
				keys[i] = string(it.Kind) + ":" + it.ID
			}
			want := []string{"comment:" + cm.ID, "proposal:" + p.ID}
			if len(q) < 4 || !slices.Equal(keys[:2], want) || q[0].Flags != 2 || q[0].Reasons[civic.ReasonAbusive] != 1 || q[0].Reasons[civic.ReasonOffTopic] != 1 ||
				!slices.Equal(q[0].Notes, []string{"Insulte."}) || !slices.Contains(keys, "proposal:"+waiting.ID) || !slices.Contains(keys, "comment:"+pending.ID) {
				t.Fatalf("queue %v %+v", keys, q)
			}

			dec := "/api/v1/moderation/comment/" + cm.ID + "/decision"
			e.fieldProblem("POST", dec, e.admin, map[string]any{"decision": "delete"}, "decision")
			e.fieldProblem("POST", dec, e.admin, map[string]any{"decision": "refuse"}, "reason_code")
			e.fieldProblem("POST", dec, e.admin, map[string]any{"decision": "keep", "reason_code": "abusive"}, "reason_code")
			e.problem("POST", "/api/v1/moderation/user/"+cm.ID+"/decision", e.admin, map[string]any{"decision": "keep"}, 404)
			e.problem("POST", "/api/v1/moderation/comment/forged/decision", e.admin, map[string]any{"decision": "refuse", "reason_code": "abusive"}, 404)
			e.problem("POST", "/api/v1/moderation/comment/"+pending.ID+"/decision", e.admin, map[string]any{"decision": "keep"}, 409) // not public
			before := e.pending()
			e.call("POST", dec, e.admin, map[string]any{"decision": "refuse", "reason_code": "abusive", "note": "Restez courtois."}, 204, nil)
			if n := e.pending(); n != before+1 {
				t.Errorf("refusal queued %d mails, want 1", n-before)
			}
			mm, err := b.Store.ModerationMailFor(context.Background(), moderationDecisionID(t, e, cm.ID))
			if err != nil || mm.Email != author.Email || mm.Reason != civic.ReasonAbusive || mm.Note != "Restez courtois." || mm.Excerpt != cm.Body {
				t.Fatalf("moderation mail %+v %v", mm, err)
			}
			e.call("POST", "/api/v1/moderation/proposal/"+p.ID+"/decision", e.admin, map[string]any{"decision": "keep"}, 204, nil)
			e.problem("POST", "/api/v1/moderation/proposal/"+p.ID+"/decision", e.admin, map[string]any{"decision": "keep"}, 409) // no open flag left
			e.call("POST", "/api/v1/moderation/proposal/"+waiting.ID+"/decision", e.admin, map[string]any{"decision": "approve"}, 204, nil)
			e.call("POST", "/api/v1/moderation/comment/"+pending.ID+"/decision", e.admin, map[string]any{"decision": "approve"}, 204, nil)

			e.call("GET", "/api/v1/moderation/queue", e.admin, nil, 200, &q)
			for _, it := range q {
				if it.ID == cm.ID || it.ID == p.ID || it.ID == waiting.ID || it.ID == pending.ID {
					t.Errorf("decided item still queued: %+v", it)
				}
			}
			var h []civic.ModerationDecision
			e.call("GET", "/api/v1/moderation/history?limit=10", e.admin, nil, 200, &h)
			got := map[string]civic.ModerationDecision{}
			for _, d := range h { // newest first: the latest decision on each
				if _, ok := got[d.TargetID]; !ok {
					got[d.TargetID] = d
				}
			}
			if d := got[cm.ID]; d.Decision != civic.DecisionRefuse || d.Reason != civic.ReasonAbusive || d.Flags != 2 || d.Note != "Restez courtois." || d.Title != p.Title {
				t.Errorf("history of the comment %+v", d)
			}
			if got[p.ID].Decision != civic.DecisionKeep || got[p.ID].Flags != 1 || got[waiting.ID].Decision != civic.DecisionApprove || got[pending.ID].Decision != civic.DecisionApprove {
				t.Errorf("history %+v", h)
			}
			e.problem("GET", "/api/v1/moderation/history?limit=0", e.admin, nil, 400)
			// The hidden comment can no longer be flagged.
			e.problem("POST", flag, c2, map[string]any{"reason_code": "abusive"}, 404)
		})
	}
}

// TestFlagFlood: flags count in the contribution limit of the account.
func TestFlagFlood(t *testing.T) {
	b := sqltest.Stores(t)[0]
	e := newEnv(t, b, nil, api.Config{ContributionLimit: 3})
	_, author := e.user(civic.RoleCitizen)
	_, flooder := e.user(civic.RoleCitizen)
	var ids []string
	for range 3 {
		ids = append(ids, e.idea(author, 1, true).ID)
	}
	_, author2 := e.user(civic.RoleCitizen)
	ids = append(ids, e.idea(author2, 1, true).ID)
	for i, id := range ids {
		want := 201
		if i == 3 {
			want = 429
		}
		resp, body := e.do("POST", "/api/v1/ideas/"+id+"/flag", flooder, map[string]any{"reason_code": "other"})
		if resp.StatusCode != want {
			t.Fatalf("flag %d: %d %s, want %d", i, resp.StatusCode, body, want)
		}
	}
}

func moderationDecisionID(t *testing.T, e *env, target string) string {
	t.Helper()
	var h []civic.ModerationDecision
	e.call("GET", "/api/v1/moderation/history", e.admin, nil, 200, &h)
	for _, d := range h {
		if d.TargetID == target {
			return d.ID
		}
	}
	t.Fatalf("no decision on %s", target)
	return ""
}
