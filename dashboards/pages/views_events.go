package pages

// eventRow is an event as the agenda pages show it.
type eventRow struct {
	ID, Title, Kind, When, Where, Description, Minutes, OnlineURL, CampaignID string
	Lat, Lon                                                                  string // "" without a location
	Capacity, Registered                                                      int
	Past, Full                                                                bool
	ProposalIDs                                                               []string
}

// agendaView is agenda.html: the public agenda.
type agendaView struct {
	Page
	Upcoming, Past []eventRow
	Campaign       string // the filter, "" for all
	Admin          bool   // the event creation form is shown
	Kinds          []kindOption
}

// eventView is evenement.html: one event, its registration form.
type eventView struct {
	Page
	E          eventRow
	Registered bool // the signed-in citizen is registered
	CanJoin    bool // a signed-in citizen (the form is shown)
	Admin      bool // the minutes form is shown
}
