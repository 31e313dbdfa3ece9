package actions

import (
	"context"
	"slices"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// RegistryStore is what the registry workflows need from the store
// (sqlstore.Store).
type RegistryStore interface {
	Sites(ctx context.Context) ([]*civic.Site, error)
	Site(ctx context.Context, id string) (*civic.Site, error)
	CreateSite(ctx context.Context, s *civic.Site) error
	UpdateSite(ctx context.Context, s *civic.Site, actor string) error
	Devices(ctx context.Context, siteID string) ([]*civic.Device, error)
	Device(ctx context.Context, id string) (*civic.Device, error)
	CreateDevice(ctx context.Context, d *civic.Device) error
	UpdateDevice(ctx context.Context, d *civic.Device, actor string) error
	SetDeviceCredentials(ctx context.Context, id, user, hash, actor string) error
	RevokeDeviceCredentials(ctx context.Context, id, actor string) error
	DeviceCredentialLines(ctx context.Context) ([]string, error)
	Record(ctx context.Context, e civic.AuditEntry) error
}

// Credentials is the answer of a provisioning: the password appears once.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// PasswordFileLine goes into Mosquitto's password_file.
	PasswordFileLine string `json:"password_file_line"`
	// ACL is the block for Mosquitto's acl_file: the device may write only its
	// own telemetry, status and event topics and read its cmd topic; a gateway
	// may do so for every device of its site (it forwards for them).
	ACL      string `json:"acl"`
	MQTTHost string `json:"mqtt_host,omitempty"`
}

// Registry is the device registry's workflows: sites, devices and their MQTT
// credentials, shared by the JSON routes and the administrators' pages.
type Registry struct {
	Store    RegistryStore
	Topics   smartdeal.Topics
	MQTTHost string // shown with new credentials (optional)
}

// CreateSite registers a site (audited).
func (r *Registry) CreateSite(ctx context.Context, actor string, s *civic.Site) error {
	if err := r.Store.CreateSite(ctx, s); err != nil {
		return err
	}
	return r.Store.Record(ctx, civic.AuditEntry{Actor: actor, Action: "site.create", Target: s.ID})
}

// CreateDevice registers a device (audited); credentials and status are
// never taken from the request.
func (r *Registry) CreateDevice(ctx context.Context, actor string, d *civic.Device) error {
	d.MQTTUser, d.LastSeen, d.Status = "", nil, ""
	if err := r.Store.CreateDevice(ctx, d); err != nil {
		return err
	}
	return r.Store.Record(ctx, civic.AuditEntry{Actor: actor, Action: "device.create", Target: d.ID})
}

// UpdateDevice changes a device's site, kind, model and quantities. Its
// credentials stay; their ACL follows the new site and kind.
func (r *Registry) UpdateDevice(ctx context.Context, actor string, d *civic.Device) (*civic.Device, error) {
	if err := r.Store.UpdateDevice(ctx, d, actor); err != nil {
		return nil, err
	}
	return r.Store.Device(ctx, d.ID)
}

// UpdateSite changes a site's name and place.
func (r *Registry) UpdateSite(ctx context.Context, actor string, s *civic.Site) (*civic.Site, error) {
	if err := r.Store.UpdateSite(ctx, s, actor); err != nil {
		return nil, err
	}
	return r.Store.Site(ctx, s.ID)
}

// Provision generates a device's MQTT password (replacing any previous
// one), stores its Mosquitto hash and returns the password, once, with the
// password-file and ACL lines. A device named like a platform service
// account is refused: it would take that account's rules.
func (r *Registry) Provision(ctx context.Context, actor, id string) (*Credentials, error) {
	d, err := r.Store.Device(ctx, id)
	if err != nil {
		return nil, err
	}
	if slices.Contains(brokeracl.Services, d.ID) {
		return nil, civic.Errorf(civic.ECONFLICT, "device %s has the name of a platform service account", d.ID)
	}
	pw := web.RandomToken()
	hash, err := brokeracl.Hash(pw, brokeracl.Iterations)
	if err != nil {
		return nil, err
	}
	if err := r.Store.SetDeviceCredentials(ctx, d.ID, d.ID, hash, actor); err != nil {
		return nil, err
	}
	return &Credentials{Username: d.ID, Password: pw, PasswordFileLine: d.ID + ":" + hash,
		ACL: brokeracl.DeviceACL(r.Topics, d), MQTTHost: r.MQTTHost}, nil
}

// Revoke removes a device's MQTT credentials.
func (r *Registry) Revoke(ctx context.Context, actor, id string) error {
	return r.Store.RevokeDeviceCredentials(ctx, id, actor)
}

// BrokerFiles returns the Mosquitto password file and ACL file generated
// from the registry (the services' passwords are the operator's: see
// deploy/README.md).
func (r *Registry) BrokerFiles(ctx context.Context) (passwd, acl string, err error) {
	lines, err := r.Store.DeviceCredentialLines(ctx)
	if err != nil {
		return "", "", err
	}
	ds, err := r.Store.Devices(ctx, "")
	if err != nil {
		return "", "", err
	}
	return brokeracl.PasswordFile(lines), brokeracl.ACLFile(r.Topics, ds), nil
}
