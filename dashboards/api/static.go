package api

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/cd06/smartdeal/dashboards/assets"
	"github.com/cd06/smartdeal/dashboards/web"
)

// staticRoutes serves the front end embedded in the binary (Leaflet, the
// map's script and styles, the offline base map, the commune gazetteer:
// dashboards/assets) under /static/, with the assets handler's content
// types, ETags, gzip and immutable caching for hashed URLs
// ("/static/" + assets.URL(name)). Nothing comes from a CDN.
func (s *Server) staticRoutes() []*web.Route {
	h := adaptor.HTTPHandler(http.StripPrefix("/static", assets.Handler()))
	return []*web.Route{
		{Method: fiber.MethodGet, Path: "/static/*", Tag: "ops", Summary: "The front end embedded in the binary (map scripts and styles, the offline base map of the Alpes-Maritimes, the commune gazetteer); hashed URLs (?v=) are cached for a year", Produces: "application/octet-stream", Handler: h},
	}
}
