package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/measure"
	"github.com/cd06/smartdeal/dashboards/series"
	"github.com/cd06/smartdeal/dashboards/sqlstore"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

// countingStore counts the calls the views make to the store, by method.
type countingStore struct {
	app.Store
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingStore) count(m string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[m]++
}

func (c *countingStore) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

func (c *countingStore) Proposal(ctx context.Context, id string) (*civic.Proposal, error) {
	c.count("Proposal")
	return c.Store.Proposal(ctx, id)
}

func (c *countingStore) ProposalsByIDs(ctx context.Context, ids []string) ([]*civic.Proposal, error) {
	c.count("ProposalsByIDs")
	return c.Store.ProposalsByIDs(ctx, ids)
}

func (c *countingStore) HasVoted(ctx context.Context, proposalID, userID string) (bool, error) {
	c.count("HasVoted")
	return c.Store.HasVoted(ctx, proposalID, userID)
}

func (c *countingStore) Links(ctx context.Context, f civic.LinkFilter) ([]*civic.Link, error) {
	c.count("Links")
	return c.Store.Links(ctx, f)
}

func (c *countingStore) DevicesByIDs(ctx context.Context, ids []string) ([]*civic.Device, error) {
	c.count("DevicesByIDs")
	return c.Store.DevicesByIDs(ctx, ids)
}

func (c *countingStore) Mission(ctx context.Context, id string) (*civic.Mission, error) {
	c.count("Mission")
	return c.Store.Mission(ctx, id)
}

func (c *countingStore) Missions(ctx context.Context) ([]*civic.Mission, error) {
	c.count("Missions")
	return c.Store.Missions(ctx)
}

func (c *countingStore) ProposalMissions(ctx context.Context, proposalID string) ([]*civic.Mission, error) {
	c.count("ProposalMissions")
	return c.Store.ProposalMissions(ctx, proposalID)
}

func (c *countingStore) Comments(ctx context.Context, proposalID string, all bool) ([]*civic.Comment, error) {
	c.count("Comments")
	return c.Store.Comments(ctx, proposalID, all)
}

func (c *countingStore) Reviews(ctx context.Context, proposalID string) ([]*civic.Review, error) {
	c.count("Reviews")
	return c.Store.Reviews(ctx, proposalID)
}

func (c *countingStore) UsersByIDs(ctx context.Context, ids []string) ([]*civic.User, error) {
	c.count("UsersByIDs")
	return c.Store.UsersByIDs(ctx, ids)
}

// countingMeasurements counts the Reads, and what they asked for.
type countingMeasurements struct {
	app.Measurements
	mu                     sync.Mutex
	reads                  int
	ranges, latest, tracks int
}

func (c *countingMeasurements) Read(ctx context.Context, r series.Reads) (*series.Results, error) {
	c.mu.Lock()
	c.reads++
	c.ranges, c.latest, c.tracks = c.ranges+len(r.Ranges), c.latest+len(r.Latest), c.tracks+len(r.Tracks)
	c.mu.Unlock()
	return c.Measurements.Read(ctx, r)
}

func (c *countingMeasurements) reset() (reads int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reads = c.reads
	c.reads, c.ranges, c.latest, c.tracks = 0, 0, 0, 0
	return reads
}

// world is a store and an InfluxDB database with a campaign, people, a site
// with a drone, and the views over them (counted).
type world struct {
	t                     testing.TB
	st                    *sqlstore.Store
	store                 *countingStore
	meas                  *countingMeasurements
	views                 *app.Views
	in                    *testenv.Influx
	db                    string
	now                   time.Time
	campaign              string
	admin, expert, agent  *civic.User
	author, fan, stranger *civic.User
	lines                 []string
}

func newWorld(t *testing.T, b sqltest.Backend, engine string) *world {
	t.Helper()
	in := testenv.SharedInflux(t)
	db := in.NewDatabase(t)
	meas, err := measure.New(measure.Config{URL: in.URL, Bucket: db + "/autogen", Engine: engine}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meas.Close)
	return newWorldOn(t, b, meas, in, db)
}

func newWorldOn(t testing.TB, b sqltest.Backend, meas app.Measurements, in *testenv.Influx, db string) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, st: b.Store, store: &countingStore{Store: b.Store, calls: map[string]int{}}, meas: &countingMeasurements{Measurements: meas},
		in: in, db: db, now: time.Now().UTC()}
	w.views = app.New(w.store, w.meas, func() time.Time { return w.now })
	user := func(name string, role civic.Role) *civic.User {
		u := &civic.User{Email: civic.NewID() + "@example.fr", Name: name, Role: role, PasswordHash: "x"}
		if err := w.st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.admin, w.expert, w.agent = user("Admin", civic.RoleAdmin), user("Experte Durand", civic.RoleExpert), user("Agent", civic.RoleAgent)
	w.author, w.fan, w.stranger = user("Autrice", civic.RoleCitizen), user("Soutien", civic.RoleCitizen), user("Passant", civic.RoleCitizen)
	cp := &civic.Campaign{Name: "SMART Deal", Starts: w.now.Add(-time.Hour), Ends: w.now.Add(30 * 24 * time.Hour), ShortlistTopN: 3}
	if err := w.st.CreateCampaign(ctx, cp); err != nil {
		t.Fatal(err)
	}
	w.campaign = cp.ID
	if err := w.st.CreateSite(ctx, &civic.Site{ID: "var", Name: "Var", Location: civic.Point{Lat: 43.7, Lon: 7.2}}); err != nil {
		t.Fatal(err)
	}
	if err := w.st.CreateDevice(ctx, &civic.Device{ID: "drone", SiteID: "var", Kind: civic.DeviceDrone, Model: "px4"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// proposal is a proposal by the author, published unless status says otherwise.
func (w *world) proposal(status civic.Status) *civic.Proposal {
	w.t.Helper()
	ctx := context.Background()
	p := &civic.Proposal{CampaignID: w.campaign, ThemeID: "environnement-risques", AuthorID: w.author.ID, Title: "Capteurs de crue", Body: "Mesurer le Var."}
	if err := w.st.CreateProposal(ctx, p); err != nil {
		w.t.Fatal(err)
	}
	var err error
	switch status {
	case civic.StatusSubmitted:
	case civic.StatusRefused:
		p, err = w.st.RefuseProposal(ctx, p.ID, w.admin, civic.Moderation{Reason: civic.ReasonOffTopic}, time.Now())
	default:
		p, err = w.st.SetStatus(ctx, p.ID, civic.StatusPublished, w.admin, "", time.Now())
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// series links p to a new sensor's quantity, registered with unit (none
// registered when unit is ""), with a reading every 10 minutes for 5 hours
// (value k, k tenths of an hour ago), the newest first.
func (w *world) series(p *civic.Proposal, dev, unit string) {
	w.t.Helper()
	ctx := context.Background()
	if unit != "" {
		if err := w.st.CreateDevice(ctx, &civic.Device{ID: dev, SiteID: "var", Kind: civic.DeviceSensor, Model: "radar",
			Quantities: []civic.DeviceQuantity{{Quantity: "water_level", Unit: unit}}}); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.st.CreateLink(ctx, &civic.Link{ProposalID: p.ID, SiteID: "var", DeviceID: dev, Quantity: "water_level"}); err != nil {
		w.t.Fatal(err)
	}
	for k := range 30 {
		w.lines = append(w.lines, fmt.Sprintf("telemetry,site=var,device=%s,quantity=water_level,unit=cm value=%d %d", dev, k, w.now.Add(-time.Duration(k)*10*time.Minute).Unix()))
	}
}

// mission plans a mission for ps; flown, it starts and ends with three
// fixes tagged with it.
func (w *world) mission(flown bool, ps ...*civic.Proposal) *civic.Mission {
	w.t.Helper()
	ctx := context.Background()
	ids := []string{}
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	m := &civic.Mission{Title: "Relevé de crue", Kind: "flood_survey", Area: json.RawMessage(`{"type":"Polygon","coordinates":[[[7.2,43.6],[7.3,43.6],[7.3,43.7],[7.2,43.6]]]}`),
		PlannedFrom: w.now.Add(-time.Hour), PlannedTo: w.now.Add(time.Hour), AgentID: w.agent.ID, SiteID: "var", DroneID: "drone", ProposalIDs: ids}
	if err := w.st.CreateMission(ctx, m); err != nil {
		w.t.Fatal(err)
	}
	if !flown {
		return m
	}
	start := w.now.Add(-30 * time.Minute).Truncate(time.Second)
	if _, err := w.st.SetMissionStatus(ctx, m.ID, civic.MissionActive, w.agent.ID, start); err != nil {
		w.t.Fatal(err)
	}
	m, err := w.st.SetMissionStatus(ctx, m.ID, civic.MissionCompleted, w.agent.ID, start.Add(10*time.Minute))
	if err != nil {
		w.t.Fatal(err)
	}
	for k := range 3 {
		at := start.Add(time.Duration(k) * time.Minute).Unix()
		w.lines = append(w.lines,
			fmt.Sprintf("telemetry,site=var,device=drone,quantity=latitude,unit=lat,mission=%s value=%g %d", m.ID, 43.65+float64(k)/1000, at),
			fmt.Sprintf("telemetry,site=var,device=drone,quantity=longitude,unit=lon,mission=%s value=7.2 %d", m.ID, at))
	}
	return m
}

// comment posts body on p as author, approved unless status says otherwise.
func (w *world) comment(p *civic.Proposal, author *civic.User, body string, status civic.CommentStatus) {
	w.t.Helper()
	ctx := context.Background()
	c := &civic.Comment{ProposalID: p.ID, AuthorID: author.ID, Body: body}
	if err := w.st.AddComment(ctx, c); err != nil {
		w.t.Fatal(err)
	}
	var err error
	switch status {
	case civic.CommentApproved:
		_, err = w.st.ModerateComment(ctx, c.ID, civic.CommentApproved, w.admin.ID)
	case civic.CommentHidden:
		_, err = w.st.HideComment(ctx, c.ID, civic.Moderation{Reason: civic.ReasonAbusive}, w.admin.ID)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

// write sends the readings gathered so far to InfluxDB.
func (w *world) write() {
	w.t.Helper()
	if len(w.lines) == 0 {
		return
	}
	resp, err := http.Post(w.in.URL+"/api/v2/write?bucket="+w.db+"/autogen&precision=s", "text/plain", strings.NewReader(strings.Join(w.lines, "\n")))
	if err != nil {
		w.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		w.t.Fatalf("write: %s %s", resp.Status, b)
	}
	w.lines = nil
}

var pageOpts = app.ProposalOptions{Span: 7 * 24 * time.Hour, Points: 500, Detail: true}
