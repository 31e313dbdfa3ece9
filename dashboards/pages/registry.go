package pages

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The administrators' device registry (/admin/registre): sites and devices
// with their place, quantities and units, last seen and status; the forms
// that register and edit them; the provisioning of a device's MQTT
// credentials (the password shown once, on the answer's page, never stored
// in clear) and their revocation. Every form does what its JSON route does,
// through actions.Registry.

const (
	registryPath = "/admin/registre"
	sitesPath    = registryPath + "/sites"
	devicesPath  = registryPath + "/appareils"
)

func devicePath(id string) string { return devicesPath + "/" + url.PathEscape(id) }
func sitePath(id string) string   { return sitesPath + "/" + url.PathEscape(id) }

var kindsFR = []kindOption{{string(civic.DeviceSensor), "capteur"}, {string(civic.DeviceGateway), "passerelle"}, {string(civic.DeviceDrone), "drone"}}

func kindFR(k civic.DeviceKind) string {
	for _, o := range kindsFR {
		if o.Value == string(k) {
			return o.Label
		}
	}
	return string(k)
}

var deviceStatusFR = map[string]string{"online": "en ligne", "offline": "hors ligne", "unknown": "inconnu"}

func init() {
	for k, v := range map[string]string{
		"site-cree":             "Site enregistré.",
		"site-modifie":          "Site modifié.",
		"appareil-cree":         "Appareil enregistré. Générez ses identifiants MQTT pour qu'il puisse publier.",
		"appareil-modifie":      "Appareil modifié.",
		"identifiants-revoques": "Identifiants MQTT révoqués : l'appareil ne peut plus se connecter au courtier.",
	} {
		flashMessages[k] = v
	}
}

// siteForm, deviceForm are the registry forms' fields (for the OpenAPI document).
type siteFormReq struct {
	CSRF string `json:"csrf"`
	ID   string `json:"id"`
	Name string `json:"name"`
	Lat  string `json:"lat"`
	Lon  string `json:"lon"`
}

type deviceFormReq struct {
	CSRF       string `json:"csrf"`
	ID         string `json:"id"`
	SiteID     string `json:"site_id"`
	Kind       string `json:"kind"`
	Model      string `json:"model"`
	Quantities string `json:"quantities"` // one "quantity unit" a line
}

func (s *Pages) registryRoutes() []*web.Route {
	f := &pageForm{srv: s, onError: s.registryFailed, messages: map[string]string{
		civic.EFORBIDDEN: "Le registre des capteurs est réservé aux administrateurs.",
		civic.ENOTFOUND:  "Ce site ou cet appareil n'existe pas.",
		civic.ECONFLICT:  "Cet identifiant est déjà pris, ou l'action n'est pas possible : rechargez la page.",
	}}
	adm := func(rt *web.Route) *web.Route {
		rt.Tag, rt.Access, rt.Roles, rt.Produces, rt.Form = "pages", web.SignedIn, web.Admins, "text/html", f
		if rt.Method == "POST" {
			rt.Status = 303
		}
		return rt
	}
	return []*web.Route{
		adm(&web.Route{Method: "GET", Path: registryPath, Summary: "Page (HTML, French, administrators): the device registry: sites and devices with place, quantities, last seen, status; forms to register them", Handler: s.registryPage}),
		adm(&web.Route{Method: "POST", Path: sitesPath, Summary: "Register a site, like POST /api/v1/sites, then 303 to the registry", Body: siteFormReq{}, Handler: s.createSitePost}),
		adm(&web.Route{Method: "GET", Path: sitesPath + "/:id", Summary: "Page (HTML, French, administrators): a site's edit form and its devices", Handler: s.sitePage}),
		adm(&web.Route{Method: "POST", Path: sitesPath + "/:id", Summary: "Change a site, like PUT /api/v1/sites/{id}, then 303 to its page", Body: siteFormReq{}, Handler: s.updateSitePost}),
		adm(&web.Route{Method: "POST", Path: devicesPath, Summary: "Register a device, like POST /api/v1/devices, then 303 to its page", Body: deviceFormReq{}, Handler: s.createDevicePost}),
		adm(&web.Route{Method: "GET", Path: devicesPath + "/:id", Summary: "Page (HTML, French, administrators): a device: edit form, MQTT credentials, revocation", Handler: s.devicePage}),
		adm(&web.Route{Method: "POST", Path: devicesPath + "/:id", Summary: "Change a device, like PUT /api/v1/devices/{id}, then 303 to its page", Body: deviceFormReq{}, Handler: s.updateDevicePost}),
		{Method: "POST", Path: devicesPath + "/:id/identifiants", Tag: "pages", Summary: "Provision the device's MQTT credentials, like POST /api/v1/devices/{id}/credentials: answered 200 with the page showing the password once (not stored)", Access: web.SignedIn, Roles: web.Admins, Body: csrfFormReq{}, Produces: "text/html", Form: f, Handler: s.provisionPost},
		adm(&web.Route{Method: "POST", Path: devicesPath + "/:id/revocation", Summary: "Revoke the device's MQTT credentials, like DELETE /api/v1/devices/{id}/credentials, then 303 to its page", Body: csrfFormReq{}, Handler: s.revokePostRegistry}),
	}
}

// registryFailed: an anonymous visit goes to the sign-in page; anything
// else refused is the plain French error page with a link back.
func (s *Pages) registryFailed(c *fiber.Ctx, status int, msg, _ string) error {
	if status == fiber.StatusUnauthorized && c.Method() == fiber.MethodGet {
		return c.Redirect("/connexion?"+returnField+"="+url.QueryEscape(registryPath), fiber.StatusSeeOther)
	}
	if status == fiber.StatusUnauthorized {
		return s.renderSignIn(c, status, signInView{Retour: registryPath}, msg)
	}
	return s.renderError(c, status, msg)
}

func (s *Pages) registryReady() error {
	if s.reg == nil {
		return civic.Errorf(civic.EUNAVAILABLE, "no registry")
	}
	return nil
}

func frCoord(v float64) string {
	return strings.Replace(strconv.FormatFloat(v, 'f', 5, 64), ".", ",", 1)
}

func siteRow(st *civic.Site, n int) registrySite {
	return registrySite{ID: st.ID, Name: st.Name, Lat: frCoord(st.Location.Lat), Lon: frCoord(st.Location.Lon), Devices: n}
}

func deviceRow(d *civic.Device) registryDevice {
	r := registryDevice{ID: d.ID, SiteID: d.SiteID, Kind: string(d.Kind), KindFR: kindFR(d.Kind), Model: d.Model,
		LastSeen: "jamais", Status: deviceStatusFR[d.Status], Provisioned: d.MQTTUser != ""}
	if r.Status == "" {
		r.Status = d.Status
	}
	if d.LastSeen != nil {
		r.LastSeen = fr.Time(*d.LastSeen)
	}
	lines := make([]string, 0, len(d.Quantities))
	for _, q := range d.Quantities {
		label := fr.Quantity(q.Quantity)
		if q.Unit != "" {
			label += " (" + q.Unit + ")"
		}
		r.Quantities = append(r.Quantities, label)
		lines = append(lines, strings.TrimSpace(q.Quantity+" "+q.Unit))
	}
	r.QuantitiesText = strings.Join(lines, "\n")
	return r
}

func (s *Pages) registryPage(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	sites, err := s.reg.Store.Sites(ctx(c))
	if err != nil {
		return err
	}
	devs, err := s.reg.Store.Devices(ctx(c), "")
	if err != nil {
		return err
	}
	count := map[string]int{}
	v := &registryView{Page: Page{Title: "Registre des capteurs"}, Kinds: kindsFR}
	for _, d := range devs {
		count[d.SiteID]++
		v.Devices = append(v.Devices, deviceRow(d))
	}
	for _, st := range sites {
		v.Sites = append(v.Sites, siteRow(st, count[st.ID]))
	}
	return s.renderRegistry(c, "admin_registre.html", &v.Page, v)
}

// renderRegistry fills the session and flash of a registry page and renders it.
func (s *Pages) renderRegistry(c *fiber.Ctx, name string, p *Page, v view) error {
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	p.Session, p.Notice, p.Here = se, s.takeFlash(c), c.Path()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, name, v)
}

func (s *Pages) sitePage(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	st, err := s.reg.Store.Site(ctx(c), c.Params("id"))
	if err != nil {
		return err
	}
	devs, err := s.reg.Store.Devices(ctx(c), st.ID)
	if err != nil {
		return err
	}
	v := &registrySiteView{Page: Page{Title: "Site : " + st.Name}, Site: siteRow(st, len(devs))}
	for _, d := range devs {
		v.Devices = append(v.Devices, deviceRow(d))
	}
	return s.renderRegistry(c, "admin_site.html", &v.Page, v)
}

func (s *Pages) deviceView(c *fiber.Ctx, id string) (*registryDeviceView, error) {
	if err := s.registryReady(); err != nil {
		return nil, err
	}
	d, err := s.reg.Store.Device(ctx(c), id)
	if err != nil {
		return nil, err
	}
	sites, err := s.reg.Store.Sites(ctx(c))
	if err != nil {
		return nil, err
	}
	v := &registryDeviceView{Page: Page{Title: "Appareil : " + d.ID}, Device: deviceRow(d), Kinds: kindsFR}
	for _, st := range sites {
		v.Sites = append(v.Sites, siteRow(st, 0))
	}
	return v, nil
}

func (s *Pages) devicePage(c *fiber.Ctx) error {
	v, err := s.deviceView(c, c.Params("id"))
	if err != nil {
		return err
	}
	return s.renderRegistry(c, "admin_appareil.html", &v.Page, v)
}

// parseCoord reads a latitude or longitude typed with a comma or a point.
func parseCoord(field, v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(v), ",", ".", 1), 64)
	if err != nil {
		return 0, civic.FieldError(field, "want a decimal number")
	}
	return f, nil
}

func siteFromForm(c *fiber.Ctx, id string) (*civic.Site, error) {
	lat, err := parseCoord("lat", c.FormValue("lat"))
	if err != nil {
		return nil, err
	}
	lon, err := parseCoord("lon", c.FormValue("lon"))
	if err != nil {
		return nil, err
	}
	return &civic.Site{ID: id, Name: c.FormValue("name"), Location: civic.Point{Lat: lat, Lon: lon}}, nil
}

// quantitiesFromForm reads one "quantity unit" a line (the unit optional).
func quantitiesFromForm(v string) []civic.DeviceQuantity {
	out := []civic.DeviceQuantity{}
	for l := range strings.SplitSeq(v, "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case len(f) == 1:
			out = append(out, civic.DeviceQuantity{Quantity: f[0]})
		default:
			out = append(out, civic.DeviceQuantity{Quantity: f[0], Unit: strings.Join(f[1:], " ")})
		}
	}
	return out
}

func deviceFromForm(c *fiber.Ctx, id string) *civic.Device {
	return &civic.Device{ID: id, SiteID: strings.TrimSpace(c.FormValue("site_id")), Kind: civic.DeviceKind(c.FormValue("kind")),
		Model: strings.TrimSpace(c.FormValue("model")), Quantities: quantitiesFromForm(c.FormValue("quantities"))}
}

func (s *Pages) createSitePost(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	st, err := siteFromForm(c, strings.TrimSpace(c.FormValue("id")))
	if err != nil {
		return err
	}
	if err := s.reg.CreateSite(ctx(c), web.Caller(c).User.ID, st); err != nil {
		return err
	}
	s.setFlash(c, "site-cree")
	return c.Redirect(registryPath+"#sites", fiber.StatusSeeOther)
}

func (s *Pages) updateSitePost(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	st, err := siteFromForm(c, c.Params("id"))
	if err != nil {
		return err
	}
	if _, err := s.reg.UpdateSite(ctx(c), web.Caller(c).User.ID, st); err != nil {
		return err
	}
	s.setFlash(c, "site-modifie")
	return c.Redirect(sitePath(st.ID), fiber.StatusSeeOther)
}

func (s *Pages) createDevicePost(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	d := deviceFromForm(c, strings.TrimSpace(c.FormValue("id")))
	if err := s.reg.CreateDevice(ctx(c), web.Caller(c).User.ID, d); err != nil {
		return err
	}
	s.setFlash(c, "appareil-cree")
	return c.Redirect(devicePath(d.ID), fiber.StatusSeeOther)
}

func (s *Pages) updateDevicePost(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	d := deviceFromForm(c, c.Params("id"))
	if _, err := s.reg.UpdateDevice(ctx(c), web.Caller(c).User.ID, d); err != nil {
		return err
	}
	s.setFlash(c, "appareil-modifie")
	return c.Redirect(devicePath(d.ID), fiber.StatusSeeOther)
}

// provisionPost answers with the device's page and its new password: a
// redirect would have to carry the password, which is never stored.
func (s *Pages) provisionPost(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	cr, err := s.reg.Provision(ctx(c), web.Caller(c).User.ID, c.Params("id"))
	if err != nil {
		return err
	}
	v, err := s.deviceView(c, c.Params("id"))
	if err != nil {
		return err
	}
	v.Credentials = cr
	return s.renderRegistry(c, "admin_appareil.html", &v.Page, v)
}

func (s *Pages) revokePostRegistry(c *fiber.Ctx) error {
	if err := s.registryReady(); err != nil {
		return err
	}
	if err := s.reg.Revoke(ctx(c), web.Caller(c).User.ID, c.Params("id")); err != nil {
		return err
	}
	s.setFlash(c, "identifiants-revoques")
	return c.Redirect(devicePath(c.Params("id")), fiber.StatusSeeOther)
}
