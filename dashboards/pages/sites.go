package pages

import (
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/pages/chart"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The site and device pages of the risk managers (/sites/{id},
// /sites/{id}/appareils/{device}): every registered series charted over a
// day, a week or a month (pages/chart, as the proposal page), the devices'
// status, the site's alerts and its ATMO index. The view is app.Site.

// sitePeriods are the spans a site page offers, by their query value.
var sitePeriods = []sitePeriod{
	{Value: "jour", Label: "24 heures", Span: 24 * time.Hour},
	{Value: "semaine", Label: "7 jours", Span: 7 * 24 * time.Hour},
	{Value: "mois", Label: "30 jours", Span: 30 * 24 * time.Hour},
}

func (s *Pages) siteRoutes(pageF *pageForm) []*web.Route {
	periode := web.Q("periode", "string", "jour (default), semaine or mois")
	return []*web.Route{
		{Method: "GET", Path: "/sites/:id", Tag: "pages", Summary: "Page (HTML, French): a site for the risk managers: its series charted over a day, a week or a month, its devices' status, its alerts and its ATMO index of the day", Access: web.SignedIn, Roles: web.AlertReaders, Produces: "text/html", Params: []web.Param{periode}, Form: pageF, OperationID: "get_sites_by_id_page", Handler: s.siteDashboardPage},
		{Method: "GET", Path: "/sites/:id/appareils/:device", Tag: "pages", Summary: "Page (HTML, French): one device of a site: its series over a day, a week or a month, its status and its alerts", Access: web.SignedIn, Roles: web.AlertReaders, Produces: "text/html", Params: []web.Param{periode}, Form: pageF, Handler: s.siteDashboardPage},
	}
}

func (s *Pages) siteDashboardPage(c *fiber.Ctx) error {
	if _, err := s.alertService(); err != nil {
		return err
	}
	per := sitePeriods[0]
	if q := c.Query("periode"); q != "" {
		found := false
		for _, p := range sitePeriods {
			if p.Value == q {
				per, found = p, true
			}
		}
		if !found {
			return civic.FieldError("periode", "jour, semaine or mois")
		}
	}
	sv, err := s.alert.Dashboards.Site(ctx(c), c.Params("id"), c.Params("device"), per.Span, s.cfg.PageSeriesPoints)
	if err != nil {
		return err
	}
	se, err := s.pageSession(c)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	title := "Site : " + sv.Site.Name
	base := "/sites/" + url.PathEscape(sv.Site.ID)
	v := &siteView{Site: sv.Site, SeriesDown: sv.SeriesErr != nil, AtmoDown: sv.AtmoErr != nil, Truncated: sv.Truncated,
		From: fr.Time(sv.Start), To: fr.Time(sv.Stop), Period: per.Label, SiteLink: base}
	here := base
	if sv.Device != nil {
		title = "Appareil " + sv.Device.ID + " — " + sv.Site.Name
		v.Device = sv.Device.ID
		here = base + "/appareils/" + url.PathEscape(sv.Device.ID)
	}
	v.Page = Page{Title: title, Session: se, ImgSrc: s.cfg.Tiles.Origin()}
	v.Place = s.sitePlace(sv.Site, sv.Devices)
	v.Here = here
	_, _, subscribed, err := s.subscriptionsOf(c, s.alert.Service)
	if err != nil {
		return err
	}
	v.Subscribed = subscribed[sv.Site.ID]
	for _, p := range sitePeriods {
		v.Periods = append(v.Periods, periodLink{Label: p.Label, Href: here + "?periode=" + p.Value, Current: p == per})
	}
	units := map[[2]string]string{}
	for _, d := range sv.Devices {
		row := dashDeviceRow{ID: d.ID, Model: d.Model, Kind: deviceKindFR[d.Kind], Status: "inconnu", Href: base + "/appareils/" + url.PathEscape(d.ID), Current: sv.Device != nil && d.ID == sv.Device.ID}
		switch d.Status {
		case "online":
			row.Status = "en ligne"
		case "offline":
			row.Status, row.Offline = "hors ligne", true
		}
		if d.LastSeen != nil {
			row.Seen = fr.Time(*d.LastSeen) + " (" + ago(now.Sub(*d.LastSeen)) + ")"
		}
		for _, q := range d.Quantities {
			units[[2]string{d.ID, q.Quantity}] = q.Unit
		}
		v.Devices = append(v.Devices, row)
	}
	for i, d := range sv.Series {
		v.Charts = append(v.Charts, chart.Build(i+1, d, units[[2]string{d.Device, d.Quantity}]))
	}
	for _, a := range sv.Alerts {
		v.Alerts = append(v.Alerts, alertRowOf(a, now))
	}
	if sv.Atmo != nil {
		a := atmoOf(sv.Atmo)
		v.Atmo = &a
	}
	if sv.Device != nil {
		h, err := s.store.DeviceStatusHistory(ctx(c), sv.Device.ID, MaxDeviceHistoryShown)
		if err != nil {
			return err
		}
		for _, ch := range h {
			row := statusChangeRow{Status: "en ligne", At: fr.Time(ch.At), Age: ago(now.Sub(ch.At))}
			if ch.Status == "offline" {
				row.Status, row.Offline = "hors ligne", true
			}
			v.StatusHistory = append(v.StatusHistory, row)
		}
	}
	return s.render(c, "site.html", v)
}

// MaxDeviceHistoryShown is how many status transitions the device page
// lists (the store keeps sqlstore.MaxDeviceStatusHistory).
const MaxDeviceHistoryShown = 50

var deviceKindFR = map[civic.DeviceKind]string{civic.DeviceSensor: "capteur", civic.DeviceGateway: "passerelle", civic.DeviceDrone: "drone"}
