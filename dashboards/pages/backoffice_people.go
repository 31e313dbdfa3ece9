package pages

import (
	"maps"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The back office's people (/admin/personnes) and audit log (/admin/journal):
// search accounts, change a role, block or unblock, through the code of the
// JSON routes (actions.SetRole, actions.Block, the store's searches).

const (
	adminPath       = "/admin"
	adminPeoplePath = "/admin/personnes"
	adminAuditPath  = "/admin/journal"
	peoplePerPage   = 50
)

func init() { maps.Copy(flashMessages, peopleFlash) }

var peopleFlash = map[string]string{
	"role-change":     "Le rôle est changé.",
	"compte-bloque":   "Le compte est bloqué : il ne peut plus se connecter et ses sessions sont fermées.",
	"compte-debloque": "Le compte est débloqué : il peut de nouveau se connecter.",
}

type roleFormReq struct {
	CSRF string `json:"csrf"`
	Role string `json:"role"`
}

type blockFormReq struct {
	CSRF   string `json:"csrf"`
	Action string `json:"action"` // bloquer or debloquer
	Reason string `json:"reason"` // required to block
}

func personPath(id string) string { return adminPeoplePath + "/" + url.PathEscape(id) }

func roleOptions(selected string, any bool) []roleOption {
	var out []roleOption
	if any {
		out = append(out, roleOption{Value: "", Label: "tous les rôles", Selected: selected == ""})
	}
	for _, r := range civic.Roles {
		out = append(out, roleOption{Value: string(r), Label: roleFR[r], Selected: string(r) == selected})
	}
	return out
}

func personRowOf(p *civic.Person) personRow {
	r := personRow{Person: p, RoleFR: roleFR[p.Role], Since: fr.Date(p.Created), ISO: p.Created.UTC().Format(time.RFC3339), Link: personPath(p.ID)}
	if p.Blocked != nil {
		r.BlockedOn = fr.Date(*p.Blocked)
	}
	return r
}

func (s *Pages) peopleForms() (admin, person *pageForm) {
	admin = &pageForm{onError: s.adminFailed, messages: map[string]string{
		civic.EFORBIDDEN: "L'administration est réservée aux administrateurs.",
		civic.EINVALID:   "La recherche n'est pas valide : 100 caractères au plus, un rôle de la liste, des dates AAAA-MM-JJ.",
	}}
	person = &pageForm{onError: s.personFailed, messages: map[string]string{
		civic.EFORBIDDEN: "L'administration est réservée aux administrateurs.",
		civic.ENOTFOUND:  "Ce compte n'existe pas.",
		civic.EINVALID:   "Indiquez le motif du blocage : 500 caractères au plus.",
	}}
	return admin, person
}

func (s *Pages) peopleRoutes() []*web.Route {
	admin, person := s.peopleForms()
	routes := []*web.Route{
		{Method: "GET", Path: adminPath, Tag: "pages", Summary: "Page (HTML, French): the back office's home: moderation, people, audit log", Access: web.SignedIn, Roles: web.Admins, Produces: "text/html", Form: admin, Handler: s.adminPage},
		{Method: "GET", Path: adminPeoplePath, Tag: "pages", Summary: "Page (HTML, French): search accounts by name or address and role, like GET /api/v1/users", Access: web.SignedIn, Roles: web.Admins,
			Params: []web.Param{web.Q("q", "string", "part of the name or address"), web.Q("role", "string", "role"), web.Q("bloques", "string", "oui: blocked accounts only"), web.Q("page", "integer", "page (50 accounts each)")}, Produces: "text/html", Form: admin, Handler: s.peoplePage},
		{Method: "GET", Path: adminPeoplePath + "/:id", Tag: "pages", Summary: "Page (HTML, French): an account, its activity, its role and block forms, its latest audited actions", Access: web.SignedIn, Roles: web.Admins, Produces: "text/html", Form: person, Handler: s.personPage},
		{Method: "POST", Path: adminPeoplePath + "/:id/role", Tag: "pages", Summary: "Role form post, like PUT /api/v1/users/{id}/role, then 303 to the account's page", Access: web.SignedIn, Roles: web.Admins, Body: roleFormReq{}, Produces: "text/html", Status: 303, Form: person, Handler: s.rolePost},
		{Method: "POST", Path: adminPeoplePath + "/:id/blocage", Tag: "pages", Summary: "Block form post (action bloquer with a reason, or debloquer), like PUT /api/v1/users/{id}/block, then 303 to the account's page", Access: web.SignedIn, Roles: web.Admins, Body: blockFormReq{}, Produces: "text/html", Status: 303, Form: person, Handler: s.blockPost},
		{Method: "GET", Path: adminAuditPath, Tag: "pages", Summary: "Page (HTML, French): the audit log filtered by actor, action and dates, like GET /api/v1/audit/search", Access: web.SignedIn, Roles: web.Admins,
			Params: []web.Param{web.Q("acteur", "string", "the actor's user id"), web.Q("action", "string", "action or prefix ending in ."), web.Q("du", "string", "YYYY-MM-DD"), web.Q("au", "string", "YYYY-MM-DD (included)")}, Produces: "text/html", Form: admin, Handler: s.auditPage},
	}
	for _, rt := range routes {
		rt.Form.(*pageForm).srv = s
	}
	return routes
}

func (s *Pages) adminPage(c *fiber.Ctx) error {
	q, err := s.store.ModerationQueue(ctx(c), 100)
	if err != nil {
		return err
	}
	return s.render(c, "admin.html", &adminView{Page: Page{Title: "Administration"}, Queue: len(q)})
}

func (s *Pages) peoplePage(c *fiber.Ctx) error {
	n, err := strconv.Atoi(c.Query("page", "1"))
	if err != nil || n < 1 || n > 10_000 {
		return civic.FieldError("page", "want 1 to 10000")
	}
	v := &peopleView{Page: Page{Title: "Personnes"}, Query: keep(c.Query("q"), 200), Role: keep(c.Query("role"), 20), Blocked: keep(c.Query("bloques"), 3), PageNo: n}
	f := civic.UserFilter{Query: v.Query, Role: civic.Role(v.Role), Limit: peoplePerPage + 1, Offset: (n - 1) * peoplePerPage}
	if v.Blocked == "oui" {
		b := true
		f.Blocked = &b
	}
	v.Roles = roleOptions(v.Role, true)
	ps, err := s.store.People(ctx(c), f)
	if err != nil {
		return err
	}
	link := func(page int) string {
		q := url.Values{"q": {v.Query}, "role": {v.Role}, "bloques": {v.Blocked}, "page": {strconv.Itoa(page)}}
		return adminPeoplePath + "?" + q.Encode() + "#resultats"
	}
	if len(ps) > peoplePerPage { // one more than a page: there is a next one
		ps, v.Next = ps[:peoplePerPage], link(n+1)
	}
	if n > 1 {
		v.Prev = link(n - 1)
	}
	for _, p := range ps {
		v.People = append(v.People, personRowOf(p))
	}
	return s.render(c, "admin_personnes.html", v)
}

func (s *Pages) personPage(c *fiber.Ctx) error {
	return s.renderPerson(c, fiber.StatusOK, "", nil)
}

// auditRows names the actors of entries with one query for all of them.
func (s *Pages) auditRows(c *fiber.Ctx, es []*civic.AuditEntry) ([]auditRow, error) {
	names := map[string]string{}
	for _, e := range es {
		if e.Actor != "" {
			names[e.Actor] = ""
		}
	}
	if len(names) > 0 {
		us, err := s.store.UsersByIDs(ctx(c), keysOf(names))
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			names[u.ID] = u.Name
		}
	}
	out := make([]auditRow, 0, len(es))
	for _, e := range es {
		r := auditRow{AuditEntry: e, Date: fr.Time(e.At), ISO: e.At.UTC().Format(time.RFC3339)}
		switch {
		case e.Actor == "":
			r.ActorName = "anonyme"
		case names[e.Actor] == "":
			r.ActorName = "compte supprimé"
		default:
			r.ActorName, r.ActorLink = names[e.Actor], personPath(e.Actor)
		}
		out = append(out, r)
	}
	return out, nil
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (s *Pages) renderPerson(c *fiber.Ctx, status int, reason string, ferr *formError) error {
	p, err := s.store.Person(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	es, err := s.store.SearchAudit(ctx(c), civic.AuditFilter{Actor: p.ID, Limit: 20})
	if err != nil {
		return err
	}
	rows, err := s.auditRows(c, es)
	if err != nil {
		return err
	}
	v := &personView{Page: Page{Title: "Compte de " + p.Name, Error: ferr}, P: personRowOf(p), Roles: roleOptions(string(p.Role), false),
		Self: web.Caller(c).User.ID == p.ID, Reason: reason, Audit: rows}
	if ferr != nil {
		v.Field = ferr.Field
	}
	c.Status(status)
	return s.render(c, "admin_personne.html", v)
}

func (s *Pages) rolePost(c *fiber.Ctx) error {
	id := c.Params("id")
	if err := s.act.SetRole(c, id, civic.Role(c.FormValue("role"))); err != nil {
		return err
	}
	s.setFlash(c, "role-change")
	return c.Redirect(personPath(id), fiber.StatusSeeOther)
}

func (s *Pages) blockPost(c *fiber.Ctx) error {
	id := c.Params("id")
	var r actions.BlockReq
	switch c.FormValue("action") {
	case "bloquer":
		r = actions.BlockReq{Blocked: true, Reason: c.FormValue("reason")}
	case "debloquer":
	default:
		return civic.FieldError("action", "want bloquer or debloquer")
	}
	if _, err := s.act.Block(c, id, r); err != nil {
		return err
	}
	s.setFlash(c, map[bool]string{true: "compte-bloque", false: "compte-debloque"}[r.Blocked])
	return c.Redirect(personPath(id), fiber.StatusSeeOther)
}

// adminFailed: an anonymous visit goes to the sign-in page, anything else
// is the plain error page (the searches are GET forms: nothing to keep).
func (s *Pages) adminFailed(c *fiber.Ctx, status int, msg, field string) error {
	if status == fiber.StatusUnauthorized {
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	return s.renderError(c, status, msg)
}

// personFailed shows the account's page again with the message (the
// last-administrator refusal in its own French words, formError), the
// reason typed kept and focused when it was refused.
func (s *Pages) personFailed(c *fiber.Ctx, status int, msg, field string) error {
	p := web.Caller(c)
	switch {
	case status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet:
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(c.Path()), fiber.StatusSeeOther)
	case status == fiber.StatusUnauthorized:
		return s.renderSignIn(c, status, signInView{Retour: c.Path()}, msg)
	case c.Method() == fiber.MethodGet || status == fiber.StatusNotFound || p == nil || !p.User.Role.Moderates():
		return s.renderError(c, status, msg)
	}
	if e := formErrorOf(c); e != nil && e.Code == civic.ECSRF {
		return s.renderPerson(c, status, "", &formError{Msg: msg})
	}
	ferr := &formError{Msg: msg}
	if field == "reason" {
		ferr.Field = "motif-blocage"
	}
	return s.renderPerson(c, status, keep(c.FormValue("reason"), 2000), ferr)
}

func (s *Pages) auditPage(c *fiber.Ctx) error {
	v := &auditView{Page: Page{Title: "Journal d'audit"}, Actor: keep(c.Query("acteur"), 100), Action: keep(c.Query("action"), 100),
		From: keep(c.Query("du"), 20), To: keep(c.Query("au"), 20)}
	from, err := civic.ParseFilterTime(v.From, "du", false)
	if err != nil {
		return err
	}
	to, err := civic.ParseFilterTime(v.To, "au", true)
	if err != nil {
		return err
	}
	es, err := s.store.SearchAudit(ctx(c), civic.AuditFilter{Actor: v.Actor, Action: v.Action, From: from, To: to, Limit: 200})
	if err != nil {
		return err
	}
	if v.Entries, err = s.auditRows(c, es); err != nil {
		return err
	}
	return s.render(c, "admin_journal.html", v)
}
