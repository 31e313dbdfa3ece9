package api

import (
	"bytes"
	"net/url"

	"github.com/paulmach/orb/geojson"

	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/app"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// mapRoutes serve the map's data (app.Maps): the whole map document that
// the /carte page embeds, and the public proposals with a location as open
// data. The map is the same for everyone (public proposals only).
func (s *Server) mapRoutes() []*web.Route {
	filters := []web.Param{web.Q("campagne", "string", "campaign id"), web.Q("theme", "string", "theme id"),
		web.Q("statut", "string", "proposal status (a public one)"), web.Q("grandeur", "string", "quantity the sensors measure"),
		web.Q("couches", "string", "layers read: propositions, capteurs, missions (comma-separated; default all)")}
	return []*web.Route{
		{Method: "GET", Path: "/api/v1/map", Tag: "map", Summary: "The map document (docs/map.md, version 1): public proposals with a location, sensors with their latest values and ATMO class, missions' areas and tracks, drones in flight, as GeoJSON feature collections", Params: filters, Response: app.MapDocument{}, Handler: s.mapDocument},
		{Method: "GET", Path: "/opendata/proposals.geojson", Tag: "opendata", Summary: "Public proposals with a location (GeoJSON FeatureCollection, newest first, at most 500, with a licence member)", Produces: app.GeoJSONType, Handler: s.openProposalsGeoJSON},
	}
}

func (s *Server) mapDocument(c *fiber.Ctx) error {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return civic.FieldError("query", "malformed query string")
	}
	f, err := app.ParseMapFilter(q)
	if err != nil {
		return err
	}
	v, err := s.maps.View(ctx(c), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := app.EncodeMap(&buf, v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(buf.Bytes())
}

func (s *Server) openProposalsGeoJSON(c *fiber.Ctx) error {
	v, err := s.maps.View(ctx(c), app.MapFilter{Layers: app.LayerProposals})
	if err != nil {
		return err
	}
	fc := app.ProposalFeatures(v.Proposals)
	fc.ExtraMembers = geojson.Properties{"licence": s.cfg.Licence} // as sites.geojson
	c.Set("X-Licence", s.cfg.Licence)
	return c.JSON(fc, app.GeoJSONType)
}
