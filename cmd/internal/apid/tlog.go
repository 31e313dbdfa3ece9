package apid

import (
	"context"
	"io"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
)

// tlogImporter adapts the drone issue's .tlog import to the API.
type tlogImporter struct{}

var _ api.FlightLogImporter = tlogImporter{}

func (tlogImporter) ImportFlightLog(ctx context.Context, r io.Reader, site, mission string) ([]smartdeal.Reading, any, error) {
	rs, st, err := tlog.Import(ctx, r, tlog.Options{Site: site, Mission: mission})
	return rs, st, err
}
