package pages

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The mission control pages: planning a mission (/missions/nouvelle: the
// area drawn on the map by mission.js, or a GeoJSON file or text without
// JavaScript), its steps with a confirmation (/missions/{id}/etape: start,
// complete, abort) and the flight-log upload (/missions/{id}/journal). The
// forms call the workflows of the JSON routes (actions: PlanMission,
// SetMissionStatus, ImportFlightLog), so both accept and refuse the same
// input; civic's rules say what a mission is.

const (
	newMissionPath = "/missions/nouvelle"
	// areaFileMax bounds a GeoJSON file of the plan form: the request body
	// is within the server's body limit anyway.
	areaFileMax = 48 << 10
)

// missionPlanFormReq documents the plan form in OpenAPI (multipart/form-data or urlencoded).
type missionPlanFormReq struct {
	CSRF        string   `json:"csrf"`
	Title       string   `json:"title"`
	Kind        string   `json:"kind"`
	Area        string   `json:"area"`      // GeoJSON Polygon, pasted
	AreaFile    string   `json:"area_file"` // a GeoJSON file (multipart)
	Drawn       string   `json:"area_drawn"`
	From        string   `json:"planned_from"` // datetime-local, Paris time
	To          string   `json:"planned_to"`
	DroneID     string   `json:"drone_id"`
	AgentID     string   `json:"agent_id"` // the agent chosen in the list
	Agent       string   `json:"agent"`    // or the agent's e-mail address (the form's field when the list is too long)
	ProposalIDs []string `json:"proposal_ids"`
}

// missionStepFormReq documents the step form in OpenAPI.
type missionStepFormReq struct {
	CSRF   string `json:"csrf"`
	Action string `json:"action"` // demarrer, terminer or interrompre
}

// missionSteps are the steps of the step form: the status each gives and
// their French words.
var missionSteps = map[string]struct {
	To             civic.MissionStatus
	Verb, Question string
	Flash          string
}{
	"demarrer":    {civic.MissionActive, "Démarrer la mission", "Démarrer la mission ? Le drone reçoit la mission active : sa télémétrie lui est rattachée dès maintenant.", "mission-demarree"},
	"terminer":    {civic.MissionCompleted, "Terminer la mission", "Terminer la mission ? Le drone n'a plus de mission active ; le journal de vol peut encore être déposé.", "mission-terminee"},
	"interrompre": {civic.MissionAborted, "Interrompre la mission", "Interrompre la mission ? Elle ne pourra plus être reprise.", "mission-interrompue"},
}

func init() {
	flashMessages["mission-planifiee"] = "La mission est planifiée : elle figure sur la liste et sur la carte."
	flashMessages["mission-demarree"] = "La mission est démarrée : le drone a reçu sa mission active."
	flashMessages["mission-terminee"] = "La mission est terminée. Déposez son journal de vol si vous l'avez."
	flashMessages["mission-interrompue"] = "La mission est interrompue."
}

// missionPlanInputs maps a refusal's field to the input that gets
// aria-invalid and the focus.
var missionPlanInputs = map[string]string{
	"title": "titre", "kind": "type", "area": "zone", "planned_from": "debut", "planned_to": "fin",
	"drone_id": "drone", "site_id": "drone", "agent_id": "agent", "agent": "agent", "proposal_ids": "propositions", "id": "titre",
}

// missionPlanMessages are the refusals in French, by field.
var missionPlanMessages = map[string]string{
	"title":        "Le titre doit compter entre 3 et 200 caractères, sans caractère de contrôle.",
	"kind":         "Choisissez le type de mission dans la liste.",
	"area":         "La zone doit être un polygone GeoJSON valide (type Polygon, anneau fermé d'au moins 4 positions [longitude, latitude]) : dessinez-la sur la carte, collez-la ou joignez un fichier.",
	"planned_from": "Indiquez le début du créneau (date et heure).",
	"planned_to":   "Le créneau doit finir après son début et durer au plus 7 jours.",
	"drone_id":     "Choisissez un drone enregistré dans la liste.",
	"site_id":      "Choisissez un drone enregistré dans la liste.",
	"agent_id":     "L'agent doit être un compte d'agent de terrain : choisissez-le dans la liste.",
	"agent":        "Aucun compte ne correspond à cette adresse e-mail : indiquez celle d'un agent de terrain.",
	"proposal_ids": "Une des propositions choisies n'existe pas ou n'est pas visible.",
}

func (s *Pages) missionControlRoutes() []*web.Route {
	plan := &pageForm{onError: s.missionPlanFailed, messages: map[string]string{
		civic.EFORBIDDEN: "La planification des missions est réservée aux gestionnaires des risques et aux administrateurs.",
		civic.ECONFLICT:  "Une mission avec cet identifiant existe déjà.",
	}}
	step := &pageForm{onError: s.missionStepFailed, messages: map[string]string{
		civic.EFORBIDDEN:    "Seuls l'agent de la mission, un gestionnaire des risques ou un administrateur peuvent la conduire.",
		civic.ECONFLICT:     "Cette étape n'est pas possible dans l'état actuel de la mission.",
		civic.EUNAVAILABLE:  "Le drone n'a pas pu être joint (serveur MQTT indisponible) : l'état de la mission n'a pas changé. Réessayez.",
		civic.ENOTFOUND:     "Cette mission n'existe pas.",
		civic.EINVALID:      "Choisissez une étape : démarrer, terminer ou interrompre.",
		civic.EUNAUTHORIZED: "Votre session a expiré : connectez-vous à nouveau.",
	}}
	upload := &pageForm{onError: s.flightLogFailed, messages: map[string]string{
		civic.EFORBIDDEN:   "Seuls l'agent de la mission, un gestionnaire des risques ou un administrateur peuvent déposer son journal de vol.",
		civic.ECONFLICT:    "Le journal de vol se dépose sur une mission en cours ou terminée.",
		civic.ENOTFOUND:    "Cette mission n'existe pas.",
		civic.ETOOLARGE:    "Le fichier est trop volumineux.",
		civic.EUNAVAILABLE: "L'import des journaux de vol est indisponible : réessayez plus tard.",
		civic.EUNSUPPORTED: "Envoyez le fichier .tlog par le formulaire de cette page.",
	}}
	for _, f := range []*pageForm{plan, step, upload} {
		f.srv = s
	}
	id := "/missions/:id"
	return []*web.Route{
		{Method: "GET", Path: newMissionPath, Tag: "pages", Summary: "Page (HTML, French): plan a mission: the area drawn on the map (or a GeoJSON file or text), the window, the drone, the agent, the linked proposals", Access: web.SignedIn, Roles: web.MissionPlanners, Produces: "text/html", Form: plan, Handler: s.missionPlanPage},
		{Method: "POST", Path: newMissionPath, Tag: "pages", Summary: "Plan form post (multipart/form-data or urlencoded): the mission is planned like POST /api/v1/missions, then 303 to its page", Access: web.SignedIn, Roles: web.MissionPlanners, Body: missionPlanFormReq{}, Produces: "text/html", Status: 303, Form: plan, Handler: s.missionPlanPost},
		{Method: "GET", Path: id + "/etape", Tag: "pages", Summary: "Page (HTML, French): confirm a mission step (action demarrer, terminer or interrompre), with a warning when starting outside the planned window", Access: web.SignedIn, Roles: web.MissionOps, Params: []web.Param{web.Q("action", "string", "demarrer, terminer or interrompre")}, Produces: "text/html", Form: step, Handler: s.missionStepPage},
		{Method: "POST", Path: id + "/etape", Tag: "pages", Summary: "Mission step form post: the status changes like POST /api/v1/missions/{id}/status (the drone's retained mission is published), then 303 to the mission page", Access: web.SignedIn, Roles: web.MissionOps, Body: missionStepFormReq{}, Produces: "text/html", Status: 303, Form: step, Handler: s.missionStepPost},
		{Method: "GET", Path: id + "/journal", Tag: "pages", Summary: "Page (HTML, French): upload a mission's flight log (.tlog) with a form that works without JavaScript", Access: web.SignedIn, Roles: web.MissionOps, Produces: "text/html", Form: upload, Handler: s.flightLogPage},
		{Method: "POST", Path: id + "/journal", Tag: "pages", Summary: "Flight-log form post (multipart/form-data, file part fichier; csrf in the query, since the body is streamed): imported like POST /api/v1/missions/{id}/flightlog, answered with the result page (readings per quantity, window, truncation) or the refusal in French", Access: web.SignedIn, Roles: web.MissionOps, Params: []web.Param{web.Q(csrfField, "string", "the session's CSRF token")}, Body: []byte{}, Produces: "text/html", Limit: "upload", Stream: true, Form: upload, Handler: s.flightLogPost},
	}
}

// mapAssets are the URLs of the map front end a mission page loads.
func mapAssets() missionAssets {
	a := missionAssets{Module: "/static/" + assets.URL(assets.MissionModule), MapJS: "/static/" + assets.URL("map.js"),
		BaseMap: "/static/" + assets.URL(assets.BaseMap)}
	for _, st := range assets.MapStyles {
		a.Styles = append(a.Styles, "/static/"+assets.URL(st))
	}
	for _, sc := range assets.MapScripts {
		if strings.HasSuffix(sc, ".js") && sc != "map.js" {
			a.Scripts = append(a.Scripts, "/static/"+assets.URL(sc))
		}
	}
	return a
}

// agentListMax is the longest list of agents the plan form offers; beyond,
// a select is no help and the form asks for the agent's e-mail address.
const agentListMax = 100

// agentChoices are the field agents' accounts (not blocked), by name, or
// nil when there are more than agentListMax.
func (s *Pages) agentChoices(c *fiber.Ctx) ([]missionChoice, error) {
	no := false
	ps, err := s.store.People(ctx(c), civic.UserFilter{Role: civic.RoleAgent, Blocked: &no, Limit: agentListMax + 1})
	if err != nil {
		return nil, err
	}
	if len(ps) > agentListMax {
		return nil, nil
	}
	out := make([]missionChoice, 0, len(ps))
	for _, p := range ps {
		label := p.Email
		if p.Name != "" {
			label = p.Name + " (" + p.Email + ")"
		}
		out = append(out, missionChoice{Value: p.ID, Label: label})
	}
	slices.SortFunc(out, func(a, b missionChoice) int {
		return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label))
	})
	return out, nil // not nil, even empty
}

func (s *Pages) missionPlanPage(c *fiber.Ctx) error {
	return s.renderMissionPlan(c, fiber.StatusOK, missionPlanForm{}, "")
}

func (s *Pages) renderMissionPlan(c *fiber.Ctx, status int, f missionPlanForm, msg string) error {
	for _, k := range civic.MissionKinds {
		f.Kinds = append(f.Kinds, missionChoice{Value: k, Label: missionKind(k)})
	}
	devices, err := s.store.Devices(ctx(c), "")
	if err != nil {
		return err
	}
	for _, d := range devices {
		if d.Kind == civic.DeviceDrone {
			f.Drones = append(f.Drones, missionChoice{Value: d.ID, Label: d.ID + " (site " + d.SiteID + ")"})
		}
	}
	if f.Agents, err = s.agentChoices(c); err != nil {
		return err
	}
	f.ManyAgents = f.Agents == nil
	ps, err := s.store.Proposals(ctx(c), civic.ProposalFilter{Statuses: civic.PublicStatuses(), Limit: 200})
	if err != nil {
		return err
	}
	for _, p := range ps {
		f.Proposals = append(f.Proposals, missionChoice{Value: p.ID, Label: p.Title})
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	v := &missionPlanView{Page: Page{Title: "Planifier une mission", Session: se, Here: "/missions"}, Form: f, Assets: mapAssets()}
	if msg != "" {
		v.Error = &formError{Msg: msg, Field: f.Field}
	}
	c.Status(status)
	return s.render(c, "mission_plan.html", v)
}

// planForm reads the plan form's fields, multipart (with a GeoJSON file)
// or urlencoded.
type planForm struct {
	values map[string][]string
	file   string // the GeoJSON file's text, if one was sent
}

func (p planForm) get(k string) string {
	if v := p.values[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func readPlanForm(c *fiber.Ctx) (planForm, error) {
	out := planForm{values: map[string][]string{}}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		mf, err := c.MultipartForm()
		if err != nil {
			return out, civic.FieldError("area", "unreadable multipart form")
		}
		out.values = mf.Value
		if fhs := mf.File["area_file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			if fhs[0].Size > areaFileMax {
				return out, civic.FieldError("area", "file over %d bytes", areaFileMax)
			}
			f, err := fhs[0].Open()
			if err != nil {
				return out, civic.FieldError("area", "unreadable file")
			}
			b, err := io.ReadAll(io.LimitReader(f, areaFileMax+1))
			_ = f.Close()
			if err != nil {
				return out, civic.FieldError("area", "unreadable file")
			}
			out.file = string(b)
		}
		return out, nil
	}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		out.values[string(k)] = append(out.values[string(k)], string(v))
	})
	return out, nil
}

// areaOf is the polygon of the plan form: the file, else the pasted text,
// else the drawing. A Feature or a one-feature FeatureCollection is taken
// for its geometry, as GIS tools export them.
func areaOf(f planForm) (json.RawMessage, error) {
	src := f.file
	if strings.TrimSpace(src) == "" {
		src = f.get("area")
	}
	if strings.TrimSpace(src) == "" {
		src = f.get("area_drawn")
	}
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, civic.FieldError("area", "required (GeoJSON Polygon)")
	}
	var probe struct {
		Type     string          `json:"type"`
		Geometry json.RawMessage `json:"geometry"`
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(src), &probe); err != nil {
		return nil, civic.FieldError("area", "not a GeoJSON object")
	}
	switch {
	case probe.Type == "Feature" && len(probe.Geometry) > 0:
		return probe.Geometry, nil
	case probe.Type == "FeatureCollection" && len(probe.Features) == 1 && len(probe.Features[0].Geometry) > 0:
		return probe.Features[0].Geometry, nil
	case probe.Type == "FeatureCollection":
		return nil, civic.FieldError("area", "want a FeatureCollection of exactly one polygon")
	}
	return json.RawMessage(src), nil
}

// parseLocal reads a datetime-local value ("2026-12-06T14:30", seconds
// optional) in Paris time.
func parseLocal(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, fr.Paris); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, civic.FieldError(field, "want a date and time")
}

// localValue writes t for a datetime-local input, Paris time.
func localValue(t time.Time) string { return t.In(fr.Paris).Format("2006-01-02T15:04") }

func (s *Pages) missionPlanPost(c *fiber.Ctx) error {
	f, err := readPlanForm(c)
	if err != nil {
		return err
	}
	m := civic.Mission{Title: f.get("title"), Kind: f.get("kind"), DroneID: strings.TrimSpace(f.get("drone_id"))}
	if m.Area, err = areaOf(f); err != nil {
		return err
	}
	if m.PlannedFrom, err = parseLocal("planned_from", f.get("planned_from")); err != nil {
		return err
	}
	if m.PlannedTo, err = parseLocal("planned_to", f.get("planned_to")); err != nil {
		return err
	}
	if m.DroneID == "" {
		return civic.FieldError("drone_id", "required")
	}
	d, err := s.store.Device(ctx(c), m.DroneID)
	if civic.ErrorCode(err) == civic.ENOTFOUND {
		return civic.FieldError("drone_id", "unknown device")
	} else if err != nil {
		return err
	}
	m.SiteID = d.SiteID // the drone's site: the form names the drone only
	// the list gives the account's id (checked by PlanMission: an agent's);
	// the fallback field, its e-mail address
	if m.AgentID = strings.TrimSpace(f.get("agent_id")); m.AgentID == "" {
		agent := strings.TrimSpace(f.get("agent"))
		if agent == "" {
			return civic.FieldError("agent", "required")
		}
		u, err := s.store.UserByEmail(ctx(c), agent)
		if civic.ErrorCode(err) == civic.ENOTFOUND {
			return civic.FieldError("agent", "no account with this address")
		} else if err != nil {
			return err
		}
		m.AgentID = u.ID
	}
	for _, id := range f.values["proposal_ids"] {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(m.ProposalIDs, id) {
			m.ProposalIDs = append(m.ProposalIDs, id)
		}
	}
	if len(m.ProposalIDs) > 50 {
		return civic.FieldError("proposal_ids", "at most 50")
	}
	if err := s.act.PlanMission(c, &m); err != nil {
		return err
	}
	s.setFlash(c, "mission-planifiee")
	return c.Redirect("/missions/"+url.PathEscape(m.ID), fiber.StatusSeeOther)
}

// missionPlanFailed shows the plan form again with what was typed, the
// French message beside the invalid input.
func (s *Pages) missionPlanFailed(c *fiber.Ctx, status int, msg, field string) error {
	switch status {
	case fiber.StatusUnauthorized:
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(newMissionPath), fiber.StatusSeeOther)
		}
		return s.renderSignIn(c, status, signInView{Retour: newMissionPath}, msg)
	case fiber.StatusForbidden:
		// A bad token or the wrong role: the form comes back empty (a
		// cross-site post must not return as a filled-in form).
		if p := web.Caller(c); p == nil || !p.User.Role.In(web.MissionPlanners...) {
			return s.renderError(c, status, msg)
		}
		return s.renderMissionPlan(c, status, missionPlanForm{}, msg)
	}
	if m, ok := missionPlanMessages[field]; ok {
		msg = m
	}
	f, _ := readPlanForm(c)
	v := missionPlanForm{Field: missionPlanInputs[field], Title: keep(f.get("title"), 1000), Kind: keep(f.get("kind"), 100),
		Area: keep(f.get("area"), areaFileMax), Drawn: keep(f.get("area_drawn"), areaFileMax), From: keep(f.get("planned_from"), 40),
		To: keep(f.get("planned_to"), 40), DroneID: keep(f.get("drone_id"), 100), Agent: keep(f.get("agent"), 320), AgentID: keep(f.get("agent_id"), 100), ProposalIDs: map[string]bool{}}
	for _, id := range f.values["proposal_ids"] {
		v.ProposalIDs[id] = true
	}
	return s.renderMissionPlan(c, status, v, msg)
}

// operable is the mission id with its page row, if the caller may operate it.
func (s *Pages) operable(c *fiber.Ctx) (missionRow, error) {
	m, err := s.act.OperableMission(c, c.Params("id"))
	if err != nil {
		return missionRow{}, err
	}
	mvs, err := s.views.MissionsSeen(ctx(c), web.Viewer(c), []*civic.Mission{m})
	if err != nil {
		return missionRow{}, err
	}
	return missionRowOf(mvs[0]), nil
}

// stepWarning warns of a start outside the planned window (allowed: the
// weather or an emergency decides, but it should be a choice).
func stepWarning(m *civic.Mission, action string, now time.Time) string {
	if action != "demarrer" {
		return ""
	}
	switch {
	case now.Before(m.PlannedFrom):
		return "Attention : le créneau prévu n'a pas commencé (il commence le " + fr.Time(m.PlannedFrom) + ", heure de Paris). Vous pouvez démarrer quand même."
	case !now.Before(m.PlannedTo):
		return "Attention : le créneau prévu est passé (il a fini le " + fr.Time(m.PlannedTo) + ", heure de Paris). Vous pouvez démarrer quand même."
	}
	return ""
}

func (s *Pages) missionStepPage(c *fiber.Ctx) error {
	action := c.Query("action")
	st, ok := missionSteps[action]
	if !ok {
		return civic.FieldError("action", "demarrer, terminer or interrompre")
	}
	row, err := s.operable(c)
	if err != nil {
		return err
	}
	if err := civic.CheckMissionTransition(row.Mission.Status, st.To); err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	return s.render(c, "mission_step.html", &missionStepView{Page: Page{Title: st.Verb + " : " + row.Title, Session: se},
		M: row, Action: action, Verb: st.Verb, Question: st.Question, Warning: stepWarning(row.Mission, action, s.now())})
}

func (s *Pages) missionStepPost(c *fiber.Ctx) error {
	st, ok := missionSteps[c.FormValue("action")]
	if !ok {
		return civic.FieldError("action", "demarrer, terminer or interrompre")
	}
	m, err := s.act.SetMissionStatus(c, c.Params("id"), st.To)
	if err != nil {
		return err
	}
	s.setFlash(c, st.Flash)
	return c.Redirect("/missions/"+url.PathEscape(m.ID), fiber.StatusSeeOther)
}

// missionStepFailed shows the refusal on the plain error page, with a link
// back to the mission.
func (s *Pages) missionStepFailed(c *fiber.Ctx, status int, msg, _ string) error {
	if status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet {
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	c.Status(status)
	return s.render(c, "erreur.html", &errorView{Page: Page{Title: "Action impossible", Error: &formError{Msg: msg},
		Here: "/missions/" + url.PathEscape(c.Params("id"))}})
}

func (s *Pages) flightLogPage(c *fiber.Ctx) error {
	row, err := s.operable(c)
	if err != nil {
		return err
	}
	if st := row.Mission.Status; st != civic.MissionActive && st != civic.MissionCompleted {
		// No form a post would refuse: the page says when it will take one.
		return s.renderFlightLog(c, fiber.StatusOK, row, nil, &flightLogRefusal{Message: "Le journal de vol se dépose une fois la mission démarrée (en cours ou terminée)."})
	}
	return s.renderFlightLog(c, fiber.StatusOK, row, nil, nil)
}

func (s *Pages) renderFlightLog(c *fiber.Ctx, status int, row missionRow, res *flightLogResult, ref *flightLogRefusal) error {
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	v := &flightLogPageView{Page: Page{Title: "Journal de vol : " + row.Title, Session: se, Here: "/missions/" + url.PathEscape(row.ID)},
		M: row, Limit: megabytes(s.kit.UploadLimit()), Result: res, Refusal: ref}
	if st := row.Mission.Status; se != nil && (st == civic.MissionActive || st == civic.MissionCompleted) {
		v.Action = template.URL("/missions/" + url.PathEscape(row.ID) + "/journal?" + csrfField + "=" + url.QueryEscape(se.CSRF))
	}
	c.Status(status)
	return s.render(c, "mission_journal.html", v)
}

// errNoFilePart is a multipart body without a non-empty fichier part.
var errNoFilePart = errors.New("no file part")

// filePart streams the "fichier" part of a multipart upload: the first
// part with that name, read from the bounded body.
type filePart struct {
	io.Reader
	body actions.Upload
}

func (p filePart) Over() bool { return p.body.Over() }

func openFilePart(body actions.Upload, contentType string) (*filePart, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, civic.Errorf(civic.EUNSUPPORTED, "want multipart/form-data")
	}
	if mt == "application/octet-stream" {
		return &filePart{Reader: body, body: body}, nil
	}
	if mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return nil, civic.Errorf(civic.EUNSUPPORTED, "want multipart/form-data")
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if body.Over() {
			return nil, civic.Errorf(civic.ETOOLARGE, "over the upload limit")
		}
		if err != nil {
			return nil, errNoFilePart
		}
		if part.FormName() == "fichier" {
			return &filePart{Reader: part, body: body}, nil
		}
		_ = part.Close()
	}
}

func (s *Pages) flightLogPost(c *fiber.Ctx) error {
	body, err := s.kit.Upload(c)
	if err != nil {
		return err
	}
	m, err := s.act.CheckFlightLogTarget(c, c.Params("id"))
	if err != nil {
		return err
	}
	mvs, err := s.views.MissionsSeen(ctx(c), web.Viewer(c), []*civic.Mission{m})
	if err != nil {
		return err
	}
	row := missionRowOf(mvs[0])
	part, err := openFilePart(body, c.Get(fiber.HeaderContentType))
	if errors.Is(err, errNoFilePart) {
		return s.renderFlightLog(c, fiber.StatusUnprocessableEntity, row, nil, &flightLogRefusal{Message: "Choisissez le fichier du journal de vol (.tlog) avant d'envoyer le formulaire."})
	} else if err != nil {
		return err
	}
	res, err := s.act.ImportFlightLog(c, m, part, s.kit.UploadLimit())
	if err != nil {
		ce := web.ToCivic(err)
		if ce.Code != civic.EINVALID {
			return err
		}
		return s.renderFlightLog(c, fiber.StatusUnprocessableEntity, row, nil, refusalOf(ce))
	}
	return s.renderFlightLog(c, fiber.StatusOK, row, resultOf(res), nil)
}

// flightLogFailed answers the refusals before the import (rights, the
// mission's state, the size) on the upload page when the mission can be
// shown, else on the error page.
func (s *Pages) flightLogFailed(c *fiber.Ctx, status int, msg, _ string) error {
	if status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet {
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(c.Path()), fiber.StatusSeeOther)
	}
	if status == fiber.StatusForbidden || status == fiber.StatusNotFound || status == fiber.StatusUnauthorized {
		return s.missionStepFailed(c, status, msg, "")
	}
	m, err := s.act.OperableMission(c, c.Params("id"))
	if err != nil {
		return s.missionStepFailed(c, status, msg, "")
	}
	mvs, err := s.views.MissionsSeen(ctx(c), web.Viewer(c), []*civic.Mission{m})
	if err != nil {
		return err
	}
	return s.renderFlightLog(c, status, missionRowOf(mvs[0]), nil, &flightLogRefusal{Message: msg})
}

// span writes a time span in French, Paris time.
func span(a, b time.Time) string { return "du " + fr.Time(a) + " au " + fr.Time(b) }

func refusalOf(ce *civic.Error) *flightLogRefusal {
	r := &flightLogRefusal{}
	r.Reason, _ = ce.Extra["reason"].(string)
	switch r.Reason {
	case actions.ReasonOutsideWindow:
		ls, _ := ce.Extra["log_start"].(time.Time)
		le, _ := ce.Extra["log_end"].(time.Time)
		ws, _ := ce.Extra["window_start"].(time.Time)
		we, _ := ce.Extra["window_end"].(time.Time)
		r.LogSpan, r.Window = span(ls, le), span(ws, we)
		r.Message = "Le journal a été enregistré en dehors du créneau de vol de la mission : rien n'a été importé."
	case actions.ReasonNotFlightLog:
		r.Message = "Ce fichier n'est pas un journal de vol lisible (fichier .tlog MAVLink attendu) : rien n'a été importé."
		r.Detail = strings.TrimPrefix(ce.Message, "not a readable flight log: ")
		if t, ok := ce.Extra["truncated"].(*actions.FlightLogTruncation); ok && t != nil {
			r.Truncated = "Le fichier est coupé à l'octet " + fr.Thousands(t.Offset) + "."
		}
	default:
		r.Message = "Le journal de vol n'a pas pu être importé : " + ce.Message
	}
	return r
}

func resultOf(res *actions.FlightLogResult) *flightLogResult {
	out := &flightLogResult{Raw: res, Readings: fr.Thousands(int64(res.Readings)), Window: span(res.Window.Start, res.Window.End),
		LogSpan: span(res.LogStart, res.LogEnd), Outside: fr.Thousands(int64(res.OutsideWindow)), Dropped: fr.Thousands(int64(res.Dropped)),
		Packs: strconv.Itoa(res.Packs)}
	qs := make([]string, 0, len(res.Quantities))
	for q := range res.Quantities {
		qs = append(qs, q)
	}
	sort.Strings(qs)
	for _, q := range qs {
		out.Quantities = append(out.Quantities, flightLogQuantity{Name: fr.Quantity(q) + " (" + q + ")", Count: fr.Thousands(int64(res.Quantities[q]))})
	}
	out.Vehicles = vehiclesOf(res.Stats)
	if res.Truncated != nil {
		out.Truncated = fmt.Sprintf("Le fichier est coupé à l'octet %s (%s) : il a été importé jusqu'à la coupure.", fr.Thousands(res.Truncated.Offset), res.Truncated.Message)
	}
	return out
}

// vehiclesOf reads the MAVLink system ids the importer found from its
// counters (stats.vehicles: the systems that sent an autopilot's heartbeat), whatever their Go type: the importer's stats
// are answered as they are.
func vehiclesOf(stats any) string {
	b, err := json.Marshal(stats)
	if err != nil {
		return ""
	}
	var st struct {
		Vehicles []int `json:"vehicles"`
	}
	if json.Unmarshal(b, &st) != nil || len(st.Vehicles) == 0 {
		return ""
	}
	ids := make([]string, len(st.Vehicles))
	for i, id := range st.Vehicles {
		ids[i] = strconv.Itoa(id)
	}
	return strings.Join(ids, ", ")
}

// megabytes writes a size in French: "32 Mo".
func megabytes(n int) string {
	if n >= 1<<20 {
		return fr.Num(float64(n)/(1<<20)) + "\u00a0Mo"
	}
	return fr.Num(float64(n)/(1<<10)) + "\u00a0ko"
}

// missionControl fills the mission page's control parts: the steps and
// upload the visitor may take (a browser session that may operate the
// mission), the live panel while it flies (the latest fix of its track
// without JavaScript; mission.js updates it from the live feed) and the map.
func (s *Pages) missionControl(c *fiber.Ctx, mv *app.MissionView, page *missionPageView) {
	m := mv.Mission
	a := mapAssets()
	page.Assets, page.AreaJSON = &a, string(m.Area)
	p := web.Caller(c)
	operable := p != nil && p.Session.Kind == civic.SessionCookie && p.User.Role.In(web.MissionOps...) && civic.CanOperate(p.User, m)
	if operable {
		for _, action := range []string{"demarrer", "terminer", "interrompre"} {
			if civic.CheckMissionTransition(m.Status, missionSteps[action].To) == nil {
				page.Steps = append(page.Steps, missionStepLink{Action: action, Label: missionSteps[action].Verb})
			}
		}
		page.Upload = m.Status == civic.MissionActive || m.Status == civic.MissionCompleted
	}
	if m.Status != civic.MissionActive {
		return
	}
	lv := &missionLive{Series: m.SiteID + "/" + m.DroneID + "/*", SiteID: m.SiteID, DroneID: m.DroneID, Mis: m.ID, Operable: operable}
	if mv.Track != nil && len(mv.Track.Points) > 0 {
		last := mv.Track.Points[len(mv.Track.Points)-1]
		lv.HasFix, lv.Time = true, fr.Time(last.Time)
		lv.Lat, lv.Lon = fr.Num(last.Lat), fr.Num(last.Lon)
		if last.Altitude != nil {
			lv.Altitude = fr.Num(*last.Altitude) + "\u00a0m"
		}
		if last.Battery != nil {
			lv.Battery = fr.Num(*last.Battery) + "\u00a0%"
		}
	}
	page.Live = lv
}
