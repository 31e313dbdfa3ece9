package actions

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cd06/smartdeal/dashboards/civic"
)

// EventStore is what the events workflows need from the store (sqlstore.Store).
type EventStore interface {
	CreateEvent(ctx context.Context, e *civic.Event, actor string) error
	Event(ctx context.Context, id string) (*civic.Event, error)
	Events(ctx context.Context, campaignID, proposalID string, endsAfter time.Time) ([]*civic.Event, error)
	SetEventMinutes(ctx context.Context, id, minutes, actor string) error
	RegisterForEvent(ctx context.Context, eventID, userID string, now time.Time) error
	UnregisterFromEvent(ctx context.Context, eventID, userID string) error
	EventRegistered(ctx context.Context, eventID, userID string) (bool, error)
}

// Events is the events' workflows (meetings with field actors, public
// events, workshops), shared by the JSON routes and the agenda pages.
type Events struct {
	Store EventStore
	Now   func() time.Time // optional: time.Now
}

func (ev *Events) now() time.Time {
	if ev.Now != nil {
		return ev.Now()
	}
	return time.Now()
}

// Create stores a new event (its id generated).
func (ev *Events) Create(ctx context.Context, actor string, e *civic.Event) (*civic.Event, error) {
	e.ID, e.Registered = "", 0
	if err := ev.Store.CreateEvent(ctx, e, actor); err != nil {
		return nil, err
	}
	return ev.Store.Event(ctx, e.ID)
}

// Register registers a signed-in citizen (capacity, not after the end).
func (ev *Events) Register(ctx context.Context, userID, eventID string) (*civic.Event, error) {
	if err := ev.Store.RegisterForEvent(ctx, eventID, userID, ev.now()); err != nil {
		return nil, err
	}
	return ev.Store.Event(ctx, eventID)
}

// Unregister withdraws a registration.
func (ev *Events) Unregister(ctx context.Context, userID, eventID string) (*civic.Event, error) {
	if _, err := ev.Store.Event(ctx, eventID); err != nil {
		return nil, err
	}
	if err := ev.Store.UnregisterFromEvent(ctx, eventID, userID); err != nil {
		return nil, err
	}
	return ev.Store.Event(ctx, eventID)
}

// ICalendar writes events as an iCalendar (RFC 5545) feed named name; each
// event links to base + "/agenda/{id}".
func ICalendar(name, base string, es []*civic.Event, now time.Time) []byte {
	var b strings.Builder
	line := func(s string) { b.WriteString(foldICal(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Departement des Alpes-Maritimes//SMART Deal//FR")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + icalText(name))
	stamp := now.UTC().Format("20060102T150405Z")
	for _, e := range es {
		line("BEGIN:VEVENT")
		line("UID:" + e.ID + "@smartdeal")
		line("DTSTAMP:" + stamp)
		line("DTSTART:" + e.Starts.UTC().Format("20060102T150405Z"))
		line("DTEND:" + e.Ends.UTC().Format("20060102T150405Z"))
		line("SUMMARY:" + icalText(e.Title))
		desc := e.Description
		if e.OnlineURL != "" {
			desc = strings.TrimSpace(desc + "\n\nEn ligne : " + e.OnlineURL)
		}
		if desc != "" {
			line("DESCRIPTION:" + icalText(desc))
		}
		if e.Place != "" {
			line("LOCATION:" + icalText(e.Place))
		} else if e.OnlineURL != "" {
			line("LOCATION:" + icalText(e.OnlineURL))
		}
		if e.Location != nil {
			line("GEO:" + strconv.FormatFloat(e.Location.Lat, 'f', 6, 64) + ";" + strconv.FormatFloat(e.Location.Lon, 'f', 6, 64))
		}
		line("CATEGORIES:" + icalText(string(e.Kind)))
		line("URL:" + base + "/agenda/" + e.ID)
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return []byte(b.String())
}

// icalText escapes a TEXT value (RFC 5545 3.3.11).
func icalText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)
	return r.Replace(s)
}

// foldICal ends a content line with CRLF, folded at 75 octets without
// cutting a UTF-8 sequence (RFC 5545 3.1).
func foldICal(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := utf8.RuneLen(r)
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	b.WriteString("\r\n")
	return b.String()
}
