package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// The flight-log import is actions' (the upload page calls it too); these
// names keep the wiring's (cmd/internal/apid) and the tests'.
type (
	// FlightLogImporter is actions.FlightLogImporter.
	FlightLogImporter = actions.FlightLogImporter
	// FlightLogImport is actions.FlightLogImport.
	FlightLogImport = actions.FlightLogImport
	// FlightLogTruncation is actions.FlightLogTruncation.
	FlightLogTruncation = actions.FlightLogTruncation
)

// FlightLogPack is the number of readings per SenML pack published for an upload.
const FlightLogPack = actions.FlightLogPack

// flightLogResp documents the answer in OpenAPI.
type flightLogResp = actions.FlightLogResult

// flightLog imports a .tlog sent as application/octet-stream
// (actions.Service.ImportFlightLog): the caller and the mission are checked
// before the body is read, then it is streamed into the importer.
func (s *Server) flightLog(c *fiber.Ctx) error {
	if s.flightLogs == nil {
		return civic.Errorf(civic.EUNAVAILABLE, "flight-log import is not configured")
	}
	if ct := c.Get(fiber.HeaderContentType); ct != "application/octet-stream" {
		return civic.Errorf(civic.EUNSUPPORTED, "Content-Type must be application/octet-stream (a .tlog file)")
	}
	body, err := s.kit.Upload(c)
	if err != nil {
		return err
	}
	m, err := s.act.CheckFlightLogTarget(c, c.Params("id"))
	if err != nil {
		return err
	}
	res, err := s.act.ImportFlightLog(c, m, body, s.cfg.FlightLogLimit)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(res)
}
