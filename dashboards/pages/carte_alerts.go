package pages

import (
	"fmt"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/alerting"
	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/fr"
	"github.com/cd06/smartdeal/dashboards/web"
)

// The map's active alerts layer (issue 12): for the signed-in risk
// managers, agents and administrators (web.AlertReaders, who read
// /alertes), the open alerts at their device's position, else their site's
// (a site known to the map through one of its sensors), with the level's
// word beside its colour; in the list alternative too. Anonymous visitors
// and citizens get neither the layer nor its list.

// maxMapAlerts bounds the open alerts the map reads (as /alertes does).
const maxMapAlerts = 1000

// mapAlerts is the alerts layer of the map page for se, nil (and no layer)
// when se may not read alerts or the alert service is not configured.
func (s *Pages) mapAlerts(c *fiber.Ctx, se *pageSession, v *app.MapView, shown bool) (rows []mapAlertRow, doc []app.MapAlertJSON, err error) {
	if se == nil || !slices.Contains(web.AlertReaders, se.Role) || s.alert.Service == nil {
		return nil, nil, nil
	}
	open, err := s.alert.Service.Alerts(ctx(c), alerting.AlertFilter{Open: true, Limit: maxMapAlerts})
	if err != nil {
		return nil, nil, fmt.Errorf("map alerts: %w", err)
	}
	type key struct{ site, device string }
	where := map[key][2]float64{}
	for _, sn := range v.Sensors {
		ll := [2]float64{sn.Site.Location.Lat, sn.Site.Location.Lon}
		where[key{sn.Site.ID, sn.Device.ID}] = ll
		if _, ok := where[key{sn.Site.ID, ""}]; !ok {
			where[key{sn.Site.ID, ""}] = ll
		}
	}
	rows, doc = []mapAlertRow{}, []app.MapAlertJSON{}
	for _, a := range open {
		ar := alertRowOf(a, v.Generated)
		what := ar.Quantity + " " + ar.Value
		if ar.Unit != "" {
			what += "\u00a0" + ar.Unit
		}
		if ar.Threshold != "" {
			what += " (seuil " + ar.Threshold
			if ar.Unit != "" {
				what += "\u00a0" + ar.Unit
			}
			what += ")"
		}
		r := mapAlertRow{ID: a.ID, Rule: a.RuleName, Level: ar.Level, Site: a.Series.Site, Device: a.Series.Device, What: what, Fired: ar.Fired, Hidden: !shown}
		ll, ok := where[key{a.Series.Site, a.Series.Device}]
		if !ok {
			ll, ok = where[key{a.Series.Site, ""}]
		}
		if ok {
			r.Position = fr.Num(ll[0]) + ", " + fr.Num(ll[1])
			doc = append(doc, app.MapAlertJSON{ID: a.ID, Severity: string(a.Severity), Level: ar.Level.Word, Rule: a.RuleName, Site: a.Series.Site,
				Device: a.Series.Device, What: what, Fired: ar.Fired, Lat: ll[0], Lon: ll[1]})
		}
		rows = append(rows, r)
	}
	return rows, doc, nil
}
