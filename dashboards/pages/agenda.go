package pages

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The public agenda (/agenda): meetings with field actors, public events and
// workshops, upcoming then past (with their minutes); an event's page with
// the registration form for signed-in citizens; the iCalendar feeds a
// calendar application subscribes to (/agenda.ics, per campaign
// /agenda/campagne/{id}.ics). Administrators create events from the agenda
// and record minutes from an event's page, like POST /api/v1/events and PUT
// /api/v1/events/{id}/minutes.

const agendaPath = "/agenda"

var eventKindFR = map[civic.EventKind]string{civic.EventMeeting: "réunion avec les acteurs de terrain", civic.EventPublic: "événement public", civic.EventWorkshop: "atelier"}

func init() {
	flashMessages["inscription-evenement"] = "Vous êtes inscrit·e à cet événement."
	flashMessages["desinscription-evenement"] = "Votre inscription est retirée."
	flashMessages["evenement-cree"] = "Événement créé : il figure à l'agenda et dans ses flux iCalendar."
	flashMessages["compte-rendu-enregistre"] = "Compte rendu enregistré."
}

func (s *Pages) eventsRoutes() []*web.Route {
	f := &pageForm{srv: s, onError: s.agendaFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Seuls les citoyen·nes connecté·es s'inscrivent aux événements.",
		civic.ENOTFOUND:  "Cet événement n'existe pas.",
		civic.ECONFLICT:  "Inscription impossible : l'événement est complet, terminé ou sans inscription.",
	}}
	citizen := []civic.Role{civic.RoleCitizen}
	admin := &pageForm{srv: s, onError: s.agendaFailed, messages: map[string]string{
		civic.EFORBIDDEN: "La création des événements est réservée aux administrateurs.",
		civic.ENOTFOUND:  "Cet événement n'existe pas.",
	}}
	return []*web.Route{
		{Method: "POST", Path: agendaPath, Tag: "pages", Summary: "Create an event from the agenda's form (administrators), like POST /api/v1/events, then 303 to its page", Access: web.SignedIn, Roles: web.Admins, Body: eventFormReq{}, Produces: "text/html", Status: 303, Form: admin, Handler: s.createEventPost},
		{Method: "POST", Path: agendaPath + "/:id/compte-rendu", Tag: "pages", Summary: "Record the event's minutes (administrators), like PUT /api/v1/events/{id}/minutes, then 303 to its page", Access: web.SignedIn, Roles: web.Admins, Body: minutesFormReq{}, Produces: "text/html", Status: 303, Form: admin, Handler: s.minutesPost},
		{Method: "GET", Path: agendaPath, Tag: "pages", Summary: "Page (HTML, French): the public agenda: upcoming and past events", Params: []web.Param{web.Q("campagne", "string", "campaign id")}, Produces: "text/html", Handler: s.agendaPage},
		{Method: "GET", Path: "/agenda.ics", Tag: "pages", Summary: "iCalendar feed (RFC 5545) of every event", Produces: "text/calendar", Handler: s.agendaICS},
		{Method: "GET", Path: agendaPath + "/campagne/:id.ics", Tag: "pages", Summary: "iCalendar feed (RFC 5545) of a campaign's events", Produces: "text/calendar", Handler: s.agendaICS},
		{Method: "GET", Path: agendaPath + "/:id", Tag: "pages", Summary: "Page (HTML, French): an event: date, place, description, proposals, minutes, registration", Produces: "text/html", Form: f, Handler: s.eventPage},
		{Method: "POST", Path: agendaPath + "/:id/inscription", Tag: "pages", Summary: "Register for the event, like POST /api/v1/events/{id}/registration, then 303 to its page", Access: web.SignedIn, Roles: citizen, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.registerPost},
		{Method: "POST", Path: agendaPath + "/:id/desinscription", Tag: "pages", Summary: "Withdraw my registration, like DELETE /api/v1/events/{id}/registration, then 303 to its page", Access: web.SignedIn, Roles: citizen, Body: csrfFormReq{}, Produces: "text/html", Status: 303, Form: f, Handler: s.unregisterPost},
	}
}

func (s *Pages) agendaFailed(c *fiber.Ctx, status int, msg, _ string) error {
	if status == fiber.StatusUnauthorized {
		return s.renderSignIn(c, status, signInView{Retour: agendaPath + "/" + url.PathEscape(c.Params("id"))}, msg)
	}
	return s.renderError(c, status, msg)
}

func (s *Pages) eventsReady() error {
	if s.ev == nil {
		return civic.Errorf(civic.EUNAVAILABLE, "no events")
	}
	return nil
}

func (s *Pages) eventRow(e *civic.Event) eventRow {
	r := eventRow{ID: e.ID, Title: e.Title, Kind: eventKindFR[e.Kind], When: "du " + fr.Time(e.Starts) + " au " + fr.Time(e.Ends),
		Where: e.Place, Description: e.Description, Minutes: e.Minutes, OnlineURL: e.OnlineURL, CampaignID: e.CampaignID,
		Capacity: e.Capacity, Registered: e.Registered, Past: !e.Ends.After(s.now()), Full: e.Capacity > 0 && e.Registered >= e.Capacity,
		ProposalIDs: e.ProposalIDs}
	if e.Location != nil {
		r.Lat, r.Lon = frCoord(e.Location.Lat), frCoord(e.Location.Lon)
	}
	if r.Where == "" {
		r.Where = "en ligne"
	}
	return r
}

func (s *Pages) agendaPage(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	campaign := c.Query("campagne")
	if campaign != "" && !smartdeal.ValidID(campaign) {
		return civic.FieldError("campagne", "invalid identifier")
	}
	es, err := s.ev.Store.Events(ctx(c), campaign, "", timeZero)
	if err != nil {
		return err
	}
	v := &agendaView{Page: Page{Title: "Agenda des réunions et événements"}, Campaign: campaign}
	for _, e := range es {
		r := s.eventRow(e)
		if r.Past {
			v.Past = append([]eventRow{r}, v.Past...) // most recent first
		} else {
			v.Upcoming = append(v.Upcoming, r)
		}
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	v.Session, v.Notice, v.Here = se, s.takeFlash(c), agendaPath
	v.Admin = se != nil && se.Role == civic.RoleAdmin
	for _, k := range []civic.EventKind{civic.EventMeeting, civic.EventPublic, civic.EventWorkshop} {
		v.Kinds = append(v.Kinds, kindOption{Value: string(k), Label: eventKindFR[k]})
	}
	return s.render(c, "agenda.html", v)
}

func (s *Pages) agendaICS(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	campaign, name := c.Params("id"), "SMART Deal — agenda"
	if campaign != "" {
		if !smartdeal.ValidID(campaign) {
			return civic.Errorf(civic.ENOTFOUND, "campaign not found")
		}
		cp, err := s.store.Campaign(ctx(c), campaign)
		if err != nil {
			return err
		}
		name = cp.Name + " — agenda"
	}
	es, err := s.ev.Store.Events(ctx(c), campaign, "", timeZero)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(actions.ICalendar(name, c.BaseURL(), es, s.now()))
}

func (s *Pages) eventPage(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	e, err := s.ev.Store.Event(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	v := &eventView{Page: Page{Title: e.Title, Session: se, Notice: s.takeFlash(c), Here: agendaPath + "/" + e.ID}, E: s.eventRow(e)}
	v.Admin = se != nil && se.Role == civic.RoleAdmin
	if p := web.Caller(c); p != nil && p.User.Role == civic.RoleCitizen && se != nil {
		v.CanJoin = true
		if v.Registered, err = s.ev.Store.EventRegistered(ctx(c), e.ID, p.User.ID); err != nil {
			return err
		}
	}
	return s.render(c, "evenement.html", v)
}

func (s *Pages) registerPost(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	if _, err := s.ev.Register(ctx(c), web.Caller(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	s.setFlash(c, "inscription-evenement")
	return c.Redirect(agendaPath+"/"+url.PathEscape(c.Params("id")), fiber.StatusSeeOther)
}

func (s *Pages) unregisterPost(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	if _, err := s.ev.Unregister(ctx(c), web.Caller(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	s.setFlash(c, "desinscription-evenement")
	return c.Redirect(agendaPath+"/"+url.PathEscape(c.Params("id")), fiber.StatusSeeOther)
}

// timeZero is "no bound" for the store's event listing.
var timeZero time.Time

// eventFormReq and minutesFormReq are the administrators' agenda forms (for
// the OpenAPI document). Times are the Paris wall clock of a datetime-local
// input ("2026-12-10T18:30").
type eventFormReq struct {
	CSRF        string `json:"csrf"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Starts      string `json:"starts"`
	Ends        string `json:"ends"`
	Place       string `json:"place"`
	Lat         string `json:"lat"`
	Lon         string `json:"lon"`
	OnlineURL   string `json:"online_url"`
	CampaignID  string `json:"campaign_id"`
	ProposalIDs string `json:"proposal_ids"` // one a line
	Capacity    string `json:"capacity"`
}

type minutesFormReq struct {
	CSRF    string `json:"csrf"`
	Minutes string `json:"minutes"`
}

func parisTime(field, v string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), fr.Paris)
	if err != nil {
		return time.Time{}, civic.FieldError(field, "want a date and time")
	}
	return t.UTC(), nil
}

func (s *Pages) createEventPost(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	e := &civic.Event{Kind: civic.EventKind(c.FormValue("kind")), Title: c.FormValue("title"), Description: c.FormValue("description"),
		Place: c.FormValue("place"), OnlineURL: strings.TrimSpace(c.FormValue("online_url")), CampaignID: strings.TrimSpace(c.FormValue("campaign_id"))}
	var err error
	if e.Starts, err = parisTime("starts", c.FormValue("starts")); err != nil {
		return err
	}
	if e.Ends, err = parisTime("ends", c.FormValue("ends")); err != nil {
		return err
	}
	if lat, lon := strings.TrimSpace(c.FormValue("lat")), strings.TrimSpace(c.FormValue("lon")); lat != "" || lon != "" {
		la, err := parseCoord("lat", lat)
		if err != nil {
			return err
		}
		lo, err := parseCoord("lon", lon)
		if err != nil {
			return err
		}
		e.Location = &civic.Point{Lat: la, Lon: lo}
	}
	if v := strings.TrimSpace(c.FormValue("capacity")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return civic.FieldError("capacity", "want a whole number")
		}
		e.Capacity = n
	}
	e.ProposalIDs = strings.Fields(c.FormValue("proposal_ids"))
	out, err := s.ev.Create(ctx(c), web.Caller(c).User.ID, e)
	if err != nil {
		return err
	}
	s.setFlash(c, "evenement-cree")
	return c.Redirect(agendaPath+"/"+out.ID, fiber.StatusSeeOther)
}

func (s *Pages) minutesPost(c *fiber.Ctx) error {
	if err := s.eventsReady(); err != nil {
		return err
	}
	if err := s.ev.Store.SetEventMinutes(ctx(c), c.Params("id"), strings.TrimSpace(c.FormValue("minutes")), web.Caller(c).User.ID); err != nil {
		return err
	}
	s.setFlash(c, "compte-rendu-enregistre")
	return c.Redirect(agendaPath+"/"+url.PathEscape(c.Params("id")), fiber.StatusSeeOther)
}

// proposalEvents lists on a proposal's page the events linked to it (one
// query, whatever their number).
func (s *Pages) proposalEvents(c *fiber.Ctx, page *ideaView) error {
	if s.ev == nil {
		return nil
	}
	es, err := s.ev.Store.Events(ctx(c), "", page.P.ID, timeZero)
	if err != nil {
		return err
	}
	for _, e := range es {
		page.Events = append(page.Events, s.eventRow(e))
	}
	return nil
}
