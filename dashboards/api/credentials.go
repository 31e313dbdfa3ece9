package api

import (
	"github.com/cd06/smartdeal/dashboards/actions"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
)

// The broker accounts and their rules belong to dashboards/brokeracl, the
// provisioning workflow to dashboards/actions (Registry); these names stay
// for the API's callers.

// MosquittoIterations is the PBKDF2 iteration count mosquitto_passwd uses by default.
const MosquittoIterations = brokeracl.Iterations

// Credentials is the answer of a provisioning: the password appears once.
type Credentials = actions.Credentials

var (
	// MosquittoHash returns a Mosquitto 2.x "$7$" password hash.
	MosquittoHash = brokeracl.Hash
	// VerifyMosquittoHash checks a password against a "$7$" hash.
	VerifyMosquittoHash = brokeracl.Verify
	// DeviceACL returns the Mosquitto ACL block for a device.
	DeviceACL = brokeracl.DeviceACL
)
