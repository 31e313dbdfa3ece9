package apid

import (
	"context"
	"errors"
	"io"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/firmware-bridge/tlog"
)

// tlogImporter adapts the drone issue's .tlog import to the API.
type tlogImporter struct{}

var _ api.FlightLogImporter = tlogImporter{}

// ImportFlightLog imports every message of the log (tlog.ImportRates). A
// cut log is not an error: its readings up to the cut are imported and the
// truncation is reported; anything else tlog refuses is a refusal.
func (tlogImporter) ImportFlightLog(ctx context.Context, r io.Reader, site, mission string) (api.FlightLogImport, error) {
	rs, st, err := tlog.Import(ctx, r, tlog.Options{Site: site, Mission: mission})
	imp := api.FlightLogImport{Readings: rs, Stats: st, Start: st.Start, End: st.End}
	var te *tlog.Error
	if errors.As(err, &te) && errors.Is(err, tlog.ErrTruncated) {
		imp.Truncated = &api.FlightLogTruncation{Offset: te.Offset, Message: te.Err.Error()}
		err = nil
	}
	return imp, err
}
