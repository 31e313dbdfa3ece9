package brokeracl_test

import (
	"strings"
	"testing"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
	"github.com/cd06/smartdeal/dashboards/civic"
)

func TestAllowed(t *testing.T) {
	tp := smartdeal.Topics{}
	dev := brokeracl.DeviceRules(tp, &civic.Device{ID: "roya-air", SiteID: "roya", Kind: civic.DeviceSensor})
	gw := brokeracl.DeviceRules(tp, &civic.Device{ID: "roya-gw", SiteID: "roya", Kind: civic.DeviceGateway})
	ing := brokeracl.ServiceRules(tp, brokeracl.Ingest)
	for _, c := range []struct {
		name  string
		rules []brokeracl.Rule
		topic string
		write bool
		want  bool
	}{
		{"own telemetry", dev, "smartdeal/v1/roya/roya-air/telemetry", true, true},
		{"own status", dev, "smartdeal/v1/roya/roya-air/status", true, true},
		{"another device", dev, "smartdeal/v1/roya/roya-eau/telemetry", true, false},
		{"another site", dev, "smartdeal/v1/tinee/roya-air/telemetry", true, false},
		{"deeper", dev, "smartdeal/v1/roya/roya-air/telemetry/x", true, false},
		{"shorter", dev, "smartdeal/v1/roya/roya-air", true, false},
		{"read own cmd", dev, "smartdeal/v1/roya/roya-air/cmd", false, true},
		{"write own cmd", dev, "smartdeal/v1/roya/roya-air/cmd", true, false},
		{"read own telemetry", dev, "smartdeal/v1/roya/roya-air/telemetry", false, false},
		{"wildcard publish", gw, "smartdeal/v1/roya/+/telemetry", true, false},
		{"gateway for its site", gw, "smartdeal/v1/roya/roya-eau/telemetry", true, true},
		{"gateway elsewhere", gw, "smartdeal/v1/tinee/x/telemetry", true, false},
		{"gateway subscribes its site's cmd", gw, "smartdeal/v1/roya/+/cmd", false, true},
		{"gateway subscribes #", gw, "smartdeal/v1/roya/#", false, false},
		{"ingest shared", ing, "$share/ingest/smartdeal/v1/+/+/telemetry", false, true},
		{"ingest other group", ing, "$share/x/smartdeal/v1/+/+/telemetry", false, true}, // the filter is what is read
		{"ingest dead letters", ing, "smartdeal/v1/deadletter/roya/x", true, true},
		{"ingest #", ing, "#", false, false},
		{"empty", dev, "", true, false},
	} {
		if got := brokeracl.Allowed(c.rules, c.topic, c.write); got != c.want {
			t.Errorf("%s: Allowed(%q, write=%v) = %v, want %v", c.name, c.topic, c.write, got, c.want)
		}
	}
	if brokeracl.DeviceRules(tp, &civic.Device{ID: "a/#", SiteID: "roya"}) != nil || brokeracl.DeviceRules(tp, &civic.Device{ID: "x", SiteID: "+"}) != nil {
		t.Error("rules for a topic-like id")
	}
}

func TestFiles(t *testing.T) {
	tp := smartdeal.Topics{}
	ds := []*civic.Device{
		{ID: "roya-air", SiteID: "roya", Kind: civic.DeviceSensor, MQTTUser: "roya-air"},
		{ID: "roya-gw", SiteID: "roya", Kind: civic.DeviceGateway, MQTTUser: "roya-gw"},
		{ID: "roya-eau", SiteID: "roya", Kind: civic.DeviceSensor}, // not provisioned
	}
	acl := brokeracl.ACLFile(tp, ds)
	for _, want := range []string{"user ingest\n", "user api\ntopic read smartdeal/v1/+/+/telemetry\n", "topic write smartdeal/v1/+/+/cmd\n",
		"user roya-air\ntopic write smartdeal/v1/roya/roya-air/telemetry\n", "user roya-gw\ntopic write smartdeal/v1/roya/+/telemetry\n",
		"topic write smartdeal/v1/deadletter/#\n"} {
		if !strings.Contains(acl, want) {
			t.Errorf("ACL lacks %q:\n%s", want, acl)
		}
	}
	if strings.Contains(acl, "roya-eau") {
		t.Error("an unprovisioned device in the ACL")
	}
	if got := brokeracl.PasswordFile([]string{"a:$7$x", "b:\nc:evil"}); got != "a:$7$x\n" {
		t.Errorf("password file %q", got)
	}
	h, err := brokeracl.Hash("pw", brokeracl.Iterations)
	if err != nil || !brokeracl.Verify(h, "pw") || brokeracl.Verify(h, "pW") || brokeracl.Verify("$7$99999999$AAAA$AAAA", "pw") {
		t.Fatalf("hash %s %v", h, err)
	}
	acc := brokeracl.DeviceAccounts(tp, ds, map[string]string{"roya-air": h, "roya-eau": ""})
	if !acc.Authenticate("roya-air", "pw") || acc.Authenticate("roya-eau", "") || acc.Authenticate("", "") {
		t.Errorf("accounts %v", acc)
	}
}

// FuzzAllowed: no topic panics the check, and no write with a wildcard or
// outside the device's own topics is allowed.
func FuzzAllowed(f *testing.F) {
	rules := brokeracl.DeviceRules(smartdeal.Topics{}, &civic.Device{ID: "roya-air", SiteID: "roya", Kind: civic.DeviceSensor})
	for _, s := range []string{"smartdeal/v1/roya/roya-air/telemetry", "$share/g/#", "+/+/+", "", "/", "smartdeal/v1/roya/+/cmd"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, topic string, write bool) {
		ok := brokeracl.Allowed(rules, topic, write)
		if ok && write && (strings.ContainsAny(topic, "+#") || !strings.HasPrefix(topic, "smartdeal/v1/roya/roya-air/")) {
			t.Fatalf("write allowed on %q", topic)
		}
	})
}

// BenchmarkAllowed is the embedded broker's check of one publish by a gateway.
func BenchmarkAllowed(b *testing.B) {
	rules := brokeracl.DeviceRules(smartdeal.Topics{}, &civic.Device{ID: "roya-gw", SiteID: "roya", Kind: civic.DeviceGateway})
	for b.Loop() {
		if !brokeracl.Allowed(rules, "smartdeal/v1/roya/roya-air/telemetry", true) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkAuthenticate is one connection's password check ($7$, 101 PBKDF2 iterations).
func BenchmarkAuthenticate(b *testing.B) {
	h, _ := brokeracl.Hash("pw", brokeracl.Iterations)
	acc := brokeracl.Accounts{"roya-air": {Hash: h}}
	for b.Loop() {
		if !acc.Authenticate("roya-air", "pw") {
			b.Fatal("refused")
		}
	}
}
