package civic_test

import (
	"testing"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// TestCanSee: who sees a proposal and a comment (what the API answers 404
// for, and what a proposal page lists).
func TestCanSee(t *testing.T) {
	author := &civic.User{ID: "author", Role: civic.RoleCitizen}
	other := &civic.User{ID: "other", Role: civic.RoleCitizen}
	expert := &civic.User{ID: "expert", Role: civic.RoleExpert}
	admin := &civic.User{ID: "admin", Role: civic.RoleAdmin}
	erased := &civic.User{ID: "", Role: civic.RoleCitizen} // never signed in as "", but "" must match nobody
	viewers := []struct {
		name string
		u    *civic.User
	}{{"anonymous", nil}, {"author", author}, {"other", other}, {"expert", expert}, {"admin", admin}, {"empty id", erased}}

	for _, st := range civic.Statuses {
		for _, v := range viewers {
			p := &civic.Proposal{Status: st, AuthorID: "author"}
			want := st.Public() || v.u == author || v.u == admin
			if got := civic.CanSee(v.u, p); got != want {
				t.Errorf("%s proposal, %s: CanSee %v", st, v.name, got)
			}
			p.AuthorID = "" // its author's account erased
			if got := civic.CanSee(v.u, p); got != (st.Public() || v.u == admin) {
				t.Errorf("%s proposal without author, %s: CanSee %v", st, v.name, got)
			}
		}
	}
	for _, st := range civic.CommentStatuses {
		for _, v := range viewers {
			cm := &civic.Comment{Status: st, AuthorID: "author"}
			listed := st == civic.CommentApproved || v.u == author
			if got := civic.CommentListed(v.u, cm); got != listed {
				t.Errorf("%s comment, %s: listed %v", st, v.name, got)
			}
			if got := civic.CanSeeComment(v.u, cm); got != (listed || v.u == admin) {
				t.Errorf("%s comment, %s: CanSeeComment %v", st, v.name, got)
			}
			cm.AuthorID = ""
			if got := civic.CommentListed(v.u, cm); got != (st == civic.CommentApproved) {
				t.Errorf("%s comment without author, %s: listed %v", st, v.name, got)
			}
		}
	}
	for _, r := range civic.Roles {
		if r.Moderates() != (r == civic.RoleAdmin) {
			t.Errorf("%s moderates: %v", r, r.Moderates())
		}
	}
}

// TestCheckAdminsLeft: the last administrator keeps the role.
func TestCheckAdminsLeft(t *testing.T) {
	for _, tc := range []struct {
		admin  bool
		others int
		want   string
	}{{true, 0, civic.ECONFLICT}, {true, 1, ""}, {false, 0, ""}, {false, 3, ""}} {
		if got := civic.ErrorCode(civic.CheckAdminsLeft(tc.admin, tc.others)); got != tc.want {
			t.Errorf("admin %v, %d others: %q, want %q", tc.admin, tc.others, got, tc.want)
		}
	}
}

// TestMissionRules: an agent acts on their own missions; the crew of a new
// mission; one active mission per drone.
func TestMissionRules(t *testing.T) {
	m := &civic.Mission{ID: "m1", AgentID: "agent1", SiteID: "var-estuaire", DroneID: "drone-1"}
	for _, tc := range []struct {
		u    *civic.User
		want bool
	}{
		{&civic.User{ID: "agent1", Role: civic.RoleAgent}, true},
		{&civic.User{ID: "agent2", Role: civic.RoleAgent}, false},
		{&civic.User{ID: "rm", Role: civic.RoleRiskManager}, true},
		{&civic.User{ID: "admin", Role: civic.RoleAdmin}, true},
	} {
		if got := civic.CanOperate(tc.u, m); got != tc.want {
			t.Errorf("%s %s: CanOperate %v", tc.u.Role, tc.u.ID, got)
		}
	}

	drone := &civic.Device{ID: "drone-1", SiteID: "var-estuaire", Kind: civic.DeviceDrone}
	agent := &civic.User{ID: "agent1", Role: civic.RoleAgent}
	for _, tc := range []struct {
		name  string
		drone *civic.Device
		agent *civic.User
		field string // "": accepted
	}{
		{"drone of the site, an agent", drone, agent, ""},
		{"unknown drone", nil, agent, "drone_id"},
		{"a sensor", &civic.Device{SiteID: "var-estuaire", Kind: civic.DeviceSensor}, agent, "drone_id"},
		{"a drone of another site", &civic.Device{SiteID: "ailleurs", Kind: civic.DeviceDrone}, agent, "drone_id"},
		{"unknown agent", drone, nil, "agent_id"},
		{"an expert as agent", drone, &civic.User{Role: civic.RoleExpert}, "agent_id"},
		{"both wrong: the drone first", nil, nil, "drone_id"},
	} {
		err := m.CheckCrew(tc.drone, tc.agent)
		var field any
		if ce, ok := err.(*civic.Error); ok {
			field = ce.Extra["field"]
		}
		if tc.field == "" && err != nil || tc.field != "" && field != tc.field {
			t.Errorf("%s: %v, want field %q", tc.name, err, tc.field)
		}
	}

	for _, tc := range []struct {
		to     civic.MissionStatus
		flying int
		want   string
	}{
		{civic.MissionActive, 0, ""},
		{civic.MissionActive, 1, civic.ECONFLICT},
		{civic.MissionCompleted, 1, ""},
		{civic.MissionAborted, 2, ""},
	} {
		if got := civic.ErrorCode(civic.CheckMissionStart(m, tc.to, tc.flying)); got != tc.want {
			t.Errorf("to %s with %d flying: %q, want %q", tc.to, tc.flying, got, tc.want)
		}
	}
}
