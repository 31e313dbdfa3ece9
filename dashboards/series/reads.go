package series

import "time"

// Reads is what one view shows of the measurements, asked for in one call
// (measure.Client.Read): series over a range, the latest reading of series,
// drone tracks. However many series and tracks it names, the adapter makes a
// bounded number of requests (see dashboards/measure).
type Reads struct {
	// Ranges are series over a range, as Range reads one. Queries with the
	// same range, aggregate and window (a page's charts) form a group read
	// by one statement.
	Ranges []RangeQuery
	// Latest are series whose newest reading within Lookback is wanted.
	Latest []SeriesKey
	// Lookback bounds Latest (optional) defaults to 30 days, as Filter's.
	Lookback time.Duration
	// Tracks are drone tracks during missions, as Track reads one.
	Tracks []TrackQuery
}

// TrackQuery asks for the positions a drone reported with a mission's tag
// within [Start, Stop).
type TrackQuery struct {
	Site, Device, Mission string
	Start, Stop           time.Time
	// Every, when positive, downsamples the track: the first fix of each
	// window of Every (InfluxDB's windows, aligned on the epoch) between
	// the track's own first and last fixes, which are always kept, so a
	// track has at most (Stop-Start)/Every+3 fixes. Zero reads every fix.
	// The tracks of one Reads share one Every (a whole second, at least
	// one). The summary (distance, altitude) is then the drawn track's.
	Every time.Duration
}

// Results answers Reads, entry for entry. A failure of the store costs only
// the kinds it hit: each kind has its error, and its entries are nil then.
type Results struct {
	Ranges    []*SeriesData
	RangesErr error
	// Latest holds each series' newest reading, nil when it has none within
	// the lookback. A series written with two units has one row per unit
	// tag; the newest wins.
	Latest    []*Latest
	LatestErr error
	Tracks    []*Track
	TracksErr error
}
