package pages

import "github.com/cd06/smartdeal/dashboards/actions"

// registrySite is a site row of the registry pages.
type registrySite struct {
	ID, Name, Lat, Lon string // coordinates in French decimal notation
	Devices            int
}

// registryDevice is a device row of the registry pages.
type registryDevice struct {
	ID, SiteID, Kind, KindFR, Model string
	Quantities                      []string // "température (Cel)"
	QuantitiesText                  string   // the edit form's textarea: one "quantity unit" a line
	LastSeen                        string   // French date, "jamais"
	Status                          string   // en ligne, hors ligne, inconnu
	Provisioned                     bool
}

// registryView is admin_registre.html: every site and device, and the
// forms that register them.
type registryView struct {
	Page
	Sites   []registrySite
	Devices []registryDevice
	Kinds   []kindOption
	Device  *registryDevice // nil: the new device form starts empty
}

type kindOption struct{ Value, Label string }

// registrySiteView is admin_site.html: a site's edit form and its devices.
type registrySiteView struct {
	Page
	Site    registrySite
	Devices []registryDevice
}

// registryDeviceView is admin_appareil.html: a device's edit form, its
// credentials (shown once, right after a provisioning) and revocation.
type registryDeviceView struct {
	Page
	Device      registryDevice
	Sites       []registrySite
	Kinds       []kindOption
	Credentials *actions.Credentials // only in the answer of the provisioning
}
