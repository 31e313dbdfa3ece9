package civic

import (
	"net/url"
	"strings"
	"time"
)

// EventKind is what an event is.
type EventKind string

// Event kinds: the SMART Deal plan's meetings with field actors and public
// events, and workshops.
const (
	EventMeeting  EventKind = "meeting"  // réunion avec les acteurs de terrain
	EventPublic   EventKind = "public"   // événement public
	EventWorkshop EventKind = "workshop" // atelier
)

// Event is a meeting, public event or workshop of a campaign.
type Event struct {
	ID          string    `json:"id"`
	Kind        EventKind `json:"kind"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Starts      time.Time `json:"starts"`
	Ends        time.Time `json:"ends"`
	// Place names where it happens; Location (optional) puts it on the map;
	// OnlineURL (https) is for an online event. One of Place and OnlineURL.
	Place       string   `json:"place,omitempty"`
	Location    *Point   `json:"location,omitempty"`
	OnlineURL   string   `json:"online_url,omitempty"`
	CampaignID  string   `json:"campaign_id,omitempty"`
	ProposalIDs []string `json:"proposal_ids,omitempty"`
	// Capacity bounds the registrations (0: no registration).
	Capacity   int       `json:"capacity"`
	Registered int       `json:"registered"`
	Minutes    string    `json:"minutes,omitempty"` // the minutes or outcome, afterwards
	Created    time.Time `json:"created"`
}

// MaxEventProposals bounds the proposals one event is linked to.
const MaxEventProposals = 20

// Validate checks an event (trimming its texts).
func (e *Event) Validate() error {
	switch e.Kind {
	case EventMeeting, EventPublic, EventWorkshop:
	default:
		return FieldError("kind", "want meeting, public or workshop")
	}
	e.Title, e.Description, e.Place = strings.TrimSpace(e.Title), strings.TrimSpace(e.Description), strings.TrimSpace(e.Place)
	if err := checkText("title", e.Title, 3, 200); err != nil {
		return err
	}
	if err := checkText("description", e.Description, 0, 10000); err != nil {
		return err
	}
	if err := checkText("place", e.Place, 0, 300); err != nil {
		return err
	}
	if e.Starts.IsZero() || !e.Ends.After(e.Starts) || e.Ends.Sub(e.Starts) > 14*24*time.Hour {
		return FieldError("ends", "must be after starts, within 14 days")
	}
	if e.Location != nil {
		if err := e.Location.Validate("location"); err != nil {
			return err
		}
	}
	if e.OnlineURL != "" {
		u, err := url.Parse(e.OnlineURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(e.OnlineURL) > 500 {
			return FieldError("online_url", "want an https URL")
		}
	}
	if e.Place == "" && e.OnlineURL == "" {
		return FieldError("place", "a place or an online_url is required")
	}
	if e.Capacity < 0 || e.Capacity > 100000 {
		return FieldError("capacity", "between 0 and 100000")
	}
	if len(e.ProposalIDs) > MaxEventProposals {
		return FieldError("proposal_ids", "at most %d", MaxEventProposals)
	}
	return checkText("minutes", e.Minutes, 0, 50000)
}

// CheckEventMinutes checks an event's minutes.
func CheckEventMinutes(m string) error { return checkText("minutes", m, 0, 50000) }
