// Package brokeracl owns the MQTT brokers' accounts and topic rules, for
// Mosquitto and for the all-in-one's embedded broker alike: a device writes
// only its own telemetry, status and event topics and reads its commands (a
// gateway does so for every device of its site); the platform's services
// (ingest, API, alerts, operator) have fixed rules. It writes the Mosquitto
// password hash ($7$, as mosquitto_passwd) and the password and ACL files
// generated from the registry, and evaluates the same rules for the embedded
// broker (Allowed). Standard library, root and civic only.
package brokeracl

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/civic"
)

// Access is what a rule allows on its topic filter.
type Access uint8

// Accesses, as Mosquitto's "topic read|write|readwrite".
const (
	Read      Access = 1
	Write     Access = 2
	ReadWrite Access = Read | Write
)

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return "readwrite"
}

// Rule allows an access on the topics a filter matches.
type Rule struct {
	Access Access
	Filter string
}

// The platform services' account names (deploy/mosquitto/smartdeal.acl).
const (
	Ingest   = "ingest"
	API      = "api"
	Alerts   = "alerts"
	Operator = "operator"
)

// Services are the platform services' account names.
var Services = []string{Ingest, API, Alerts, Operator}

// ServiceRules returns a platform service's rules (nil for an unknown name).
func ServiceRules(t smartdeal.Topics, name string) []Rule {
	all := func(ch string) string { return t.Device("+", "+", ch) }
	dead := t.DeadLetter("_", "_")
	dead = dead[:strings.LastIndex(dead[:strings.LastIndex(dead, "/")], "/")] + "/#"
	alerts := t.AlertsFilter()
	switch name {
	case Ingest: // reads every device's telemetry through $share/ingest/…, writes dead letters
		return []Rule{{Read, all(smartdeal.ChannelTelemetry)}, {Read, "$share/ingest/" + all(smartdeal.ChannelTelemetry)}, {Write, dead}}
	case API: // the live feed and device status; mission commands; a flight log's track (re-published telemetry)
		return []Rule{{Read, all(smartdeal.ChannelTelemetry)}, {Read, all(smartdeal.ChannelStatus)}, {Write, all(smartdeal.ChannelCmd)},
			{Write, all(smartdeal.ChannelTelemetry)}}
	case Alerts: // its own shared group, retained statuses, the alert states
		return []Rule{{Read, all(smartdeal.ChannelTelemetry)}, {Read, "$share/alerts/" + all(smartdeal.ChannelTelemetry)},
			{Read, all(smartdeal.ChannelStatus)}, {ReadWrite, alerts}}
	case Operator:
		return []Rule{{Read, dead}, {Read, all(smartdeal.ChannelStatus)}, {Read, alerts}}
	}
	return nil
}

// DeviceRules returns a device's rules: its own telemetry, status and event
// topics to write and its cmd topic to read; a gateway's cover every device
// of its site (it forwards for them). A device with an unsafe id or site
// (never stored: civic validates them) gets no rule.
func DeviceRules(t smartdeal.Topics, d *civic.Device) []Rule {
	if !smartdeal.ValidID(d.ID) || !smartdeal.ValidID(d.SiteID) {
		return nil
	}
	dev := d.ID
	if d.Kind == civic.DeviceGateway {
		dev = "+"
	}
	return []Rule{
		{Write, t.Device(d.SiteID, dev, smartdeal.ChannelTelemetry)},
		{Write, t.Device(d.SiteID, dev, smartdeal.ChannelStatus)},
		{Write, t.Device(d.SiteID, dev, smartdeal.ChannelEvent)},
		{Read, t.Device(d.SiteID, dev, smartdeal.ChannelCmd)},
	}
}

// GatewayRules are the rules of a gateway account of a site (the all-in-one's
// simulated gateways and bridge).
func GatewayRules(t smartdeal.Topics, site string) []Rule {
	return DeviceRules(t, &civic.Device{ID: "gateway", SiteID: site, Kind: civic.DeviceGateway})
}

// Block returns the Mosquitto acl_file block of one account.
func Block(user string, rules []Rule) string {
	var b strings.Builder
	b.WriteString("user " + user + "\n")
	for _, r := range rules {
		b.WriteString("topic " + r.Access.String() + " " + r.Filter + "\n")
	}
	return b.String()
}

// DeviceACL returns the Mosquitto ACL block of a device (user = device id).
func DeviceACL(t smartdeal.Topics, d *civic.Device) string {
	return Block(d.ID, DeviceRules(t, d))
}

// ACLFile returns a Mosquitto acl_file: the services' blocks, then one block
// per provisioned device (MQTTUser set), in the order given.
func ACLFile(t smartdeal.Topics, devices []*civic.Device) string {
	var b strings.Builder
	b.WriteString("# SMART Deal broker ACL, generated from the registry (GET /api/v1/broker/acl).\n")
	b.WriteString("# A device writes only its own telemetry, status and event topics and reads its\n# commands; a gateway does so for every device of its site.\n\n")
	for _, s := range Services {
		b.WriteString(Block(s, ServiceRules(t, s)) + "\n")
	}
	for _, d := range devices {
		if d.MQTTUser == "" || d.MQTTUser != d.ID {
			continue
		}
		if rs := DeviceRules(t, d); rs != nil {
			b.WriteString(Block(d.ID, rs) + "\n")
		}
	}
	return b.String()
}

// PasswordFile returns a Mosquitto password_file from "user:hash" lines.
func PasswordFile(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		if strings.ContainsAny(l, "\n\r") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Allowed reports whether rules allow a publish (write) on topic, or a
// subscription (read) to a filter or the delivery of a topic. A filter is
// allowed when a rule's filter covers it: "+" in a rule covers any one level
// ("+" too), "#" the rest; a "+" or "#" asked for is covered only by a
// wildcard of the rule. A shared subscription ($share/group/filter) is
// checked by its filter too.
func Allowed(rules []Rule, topic string, write bool) bool {
	want := Read
	if write {
		if strings.ContainsAny(topic, "+#") {
			return false // a topic name, never a filter
		}
		want = Write
	}
	for _, r := range rules {
		if r.Access&want == 0 {
			continue
		}
		if covers(r.Filter, topic) {
			return true
		}
		if !write && strings.HasPrefix(topic, "$share/") {
			if p := strings.SplitN(topic, "/", 3); len(p) == 3 && covers(r.Filter, p[2]) {
				return true
			}
		}
	}
	return false
}

// covers reports whether rule filter f covers topic or filter t.
func covers(f, t string) bool {
	fs, ts := strings.Split(f, "/"), strings.Split(t, "/")
	for i, p := range fs {
		if p == "#" {
			return true
		}
		if i >= len(ts) {
			return false
		}
		switch {
		case p == "+":
			if ts[i] == "#" {
				return false
			}
		case p != ts[i] || ts[i] == "+" || ts[i] == "#":
			return false
		}
	}
	return len(fs) == len(ts)
}

// Iterations is the PBKDF2 iteration count mosquitto_passwd uses by default.
const Iterations = 101

// Hash returns a Mosquitto 2.x password hash in the format mosquitto_passwd
// writes: "$7$<iterations>$<base64 salt>$<base64 key>", the key being
// PBKDF2-HMAC-SHA512 of the password over a 12-byte salt, 64 bytes long,
// base64 the standard alphabet with padding.
func Hash(password string, iterations int) (string, error) {
	salt := make([]byte, 12)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return hashSalt(password, salt, iterations)
}

func hashSalt(password string, salt []byte, iterations int) (string, error) {
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, 64)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	enc := base64.StdEncoding
	return "$7$" + strconv.Itoa(iterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key), nil
}

// Verify checks a password against a "$7$" hash (iterations bounded, so a
// forged hash cannot make a check slow).
func Verify(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[1] != "7" {
		return false
	}
	it, err := strconv.Atoi(parts[2])
	if err != nil || it <= 0 || it > 1_000_000 {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		return false
	}
	got, err := hashSalt(password, salt, it)
	return err == nil && got == hash
}

// Account is one broker account: its hash and its rules.
type Account struct {
	Hash  string
	Rules []Rule
}

// Accounts are the accounts a broker checks, by user name.
type Accounts map[string]Account

// Authenticate reports whether user and password match an account.
func (a Accounts) Authenticate(user, password string) bool {
	acc, ok := a[user]
	return ok && user != "" && Verify(acc.Hash, password)
}

// Allowed reports whether user may publish on (write) or read topic.
func (a Accounts) Allowed(user, topic string, write bool) bool {
	acc, ok := a[user]
	return ok && Allowed(acc.Rules, topic, write)
}

// DeviceAccounts builds the accounts of the provisioned devices
// (user:hash as stored, rules from their kind and site).
func DeviceAccounts(t smartdeal.Topics, devices []*civic.Device, hashes map[string]string) Accounts {
	out := Accounts{}
	for _, d := range devices {
		h, ok := hashes[d.ID]
		if !ok || h == "" || slices.Contains(Services, d.ID) {
			continue // a device named like a service never takes its account
		}
		if rs := DeviceRules(t, d); rs != nil {
			out[d.ID] = Account{Hash: h, Rules: rs}
		}
	}
	return out
}
