package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/cd06/smartdeal/dashboards/api"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/sqlstore/sqltest"
	"github.com/cd06/smartdeal/internal/testenv"
)

func TestMissions(t *testing.T) {
	for _, b := range sqltest.Stores(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b, nil, api.Config{})
			agentID, agent := e.field()
			_, otherAgent := e.user(civic.RoleAgent)
			_, rm := e.user(civic.RoleRiskManager)
			_, citizen := e.user(civic.RoleCitizen)
			p := e.idea(citizen, 10, true)

			m := mission(agentID, square(7.2, 43.65))
			m["proposal_ids"] = []string{p.ID}
			var got civic.Mission
			e.call("POST", "/api/v1/missions", rm, m, 201, &got)
			if got.Status != civic.MissionPlanned || len(got.ProposalIDs) != 1 {
				t.Fatalf("mission %+v", got)
			}
			var list []civic.Mission
			e.call("GET", "/api/v1/missions", "", nil, 200, &list)
			if len(list) != 1 || len(list[0].ProposalIDs) != 1 || list[0].ProposalIDs[0] != p.ID {
				t.Fatalf("mission list %+v: want the linked proposal", list)
			}
			bad := mission(agentID, square(7.2, 43.65))
			bad["drone_id"] = "level-1"
			e.problem("POST", "/api/v1/missions", rm, bad, 400) // a sensor is not a drone

			path := "/api/v1/missions/" + got.ID + "/status"
			e.problem("POST", path, otherAgent, map[string]any{"status": "active"}, 403)
			e.pub.fail = errPublish
			e.problem("POST", path, agent, map[string]any{"status": "active"}, 503)
			e.call("GET", "/api/v1/missions/"+got.ID, "", nil, 200, &got)
			if got.Status != civic.MissionPlanned {
				t.Fatalf("status changed although the drone was not told: %s", got.Status)
			}
			e.pub.fail = nil
			e.call("POST", path, agent, map[string]any{"status": "active"}, 200, &got)
			if got.Status != civic.MissionActive || got.Started == nil {
				t.Fatalf("start: %+v", got)
			}
			e.problem("POST", path, agent, map[string]any{"status": "active"}, 409)
			e.call("POST", path, agent, map[string]any{"status": "completed"}, 200, &got)
			if got.Ended == nil {
				t.Fatalf("no end time")
			}
			msgs := e.pub.all()
			if len(msgs) != 2 {
				t.Fatalf("published %d messages, want 2", len(msgs))
			}
			for i, want := range []string{got.ID, ""} {
				var cmd api.SetMissionCommand
				if err := json.Unmarshal(msgs[i].Payload, &cmd); err != nil {
					t.Fatal(err)
				}
				if msgs[i].Topic != "smartdeal/v1/var-estuaire/drone-1/cmd" || !msgs[i].Retained || cmd.Cmd != "set_mission" || cmd.Mission != want || cmd.ID == "" {
					t.Fatalf("message %d = %s %s retained=%v", i, msgs[i].Topic, msgs[i].Payload, msgs[i].Retained)
				}
			}
			var page struct {
				Missions []string `json:"missions"`
			}
			e.call("GET", "/api/v1/ideas/"+p.ID+"/page", "", nil, 200, &page)
			if len(page.Missions) != 1 || page.Missions[0] != got.ID {
				t.Fatalf("proposal page missions %v", page.Missions)
			}
		})
	}
}

// TestMosquittoHash checks our $7$ hashes against a line mosquitto_passwd wrote.
func TestMosquittoHash(t *testing.T) {
	const line = "$7$101$f+MFxyIEMBxAum+1$Fyw7DgkxOuci4sfi0fI9KGCA5O6cRg/c0H4a+R+0msUJB5wmafI4j62pkDubuYrOdO+V9jMyvXTatZ6jMkODHg=="
	if !api.VerifyMosquittoHash(line, "secret") || api.VerifyMosquittoHash(line, "Secret") {
		t.Fatal("verification against mosquitto_passwd output failed")
	}
	h, err := api.MosquittoHash("pw", api.MosquittoIterations)
	if err != nil || !api.VerifyMosquittoHash(h, "pw") {
		t.Fatalf("round trip: %s %v", h, err)
	}
	parts := strings.Split(h, "$")
	salt, _ := base64.StdEncoding.DecodeString(parts[3])
	key, _ := base64.StdEncoding.DecodeString(parts[4])
	if len(salt) != 12 || len(key) != 64 || parts[2] != "101" {
		t.Fatalf("format %s", h)
	}
}

// TestDeviceCredentialsMosquitto provisions a device through the API and
// loads the password and ACL lines into a real Mosquitto: the device connects
// with its password, publishes under its own topic only, and a wrong password
// is refused.
func TestDeviceCredentialsMosquitto(t *testing.T) {
	e := newEnv(t, sqltest.SQLite(t), nil, api.Config{})
	e.field()
	var cr api.Credentials
	e.call("POST", "/api/v1/devices/level-1/credentials", e.admin, nil, 201, &cr)
	if cr.Username != "level-1" || cr.Password == "" || !strings.HasPrefix(cr.PasswordFileLine, "level-1:$7$101$") {
		t.Fatalf("credentials %+v", cr)
	}
	var dev civic.Device
	e.call("GET", "/api/v1/devices/level-1", "", nil, 200, &dev)
	if dev.MQTTUser != "level-1" || strings.Contains(fmt.Sprint(dev), cr.Password) {
		t.Fatalf("device %+v", dev)
	}
	obsHash, _ := api.MosquittoHash("observer-pw", api.MosquittoIterations)
	dir := t.TempDir()
	pwFile, aclFile := filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")
	if err := os.WriteFile(pwFile, []byte(cr.PasswordFileLine+"\nobserver:"+obsHash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(aclFile, []byte(cr.ACL+"\nuser observer\ntopic read #\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	broker := testenv.StartMosquitto(t, testenv.MosquittoOptions{Extra: "password_file " + pwFile + "\nacl_file " + aclFile + "\n"})
	connect := func(user, pw string) (mqtt.Client, error) {
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID(user + civic.NewID()).
			SetUsername(user).SetPassword(pw).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false))
		tok := c.Connect()
		tok.WaitTimeout(5 * time.Second)
		return c, tok.Error()
	}
	if _, err := connect("level-1", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}
	obs, err := connect("observer", "observer-pw")
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Disconnect(100)
	got := make(chan string, 10)
	obs.Subscribe("smartdeal/v1/#", 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() }).WaitTimeout(5 * time.Second)
	dev1, err := connect("level-1", cr.Password)
	if err != nil {
		t.Fatalf("device with its provisioned password: %v", err)
	}
	defer dev1.Disconnect(100)
	dev1.Publish("smartdeal/v1/var-estuaire/drone-1/telemetry", 1, false, "[]").WaitTimeout(5 * time.Second) // not its topic
	dev1.Publish("smartdeal/v1/var-estuaire/level-1/telemetry", 1, false, "[]").WaitTimeout(5 * time.Second)
	select {
	case topic := <-got:
		if topic != "smartdeal/v1/var-estuaire/level-1/telemetry" {
			t.Fatalf("ACL let through %s", topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the device's own publish never arrived")
	}
}
