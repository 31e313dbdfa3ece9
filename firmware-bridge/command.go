package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cd06/smartdeal"
)

// Command is a platform command as published on {prefix}/{site}/{device}/cmd.
type Command struct {
	ID       string `json:"id"`
	Cmd      string `json:"cmd"`
	Sensor   string `json:"sensor,omitempty"`   // read_now, set_interval: a message group ("" = all)
	Interval string `json:"interval,omitempty"` // set_interval: "1s", "500ms", "0s" (every message), "-1s" (off)
	Mission  string `json:"mission,omitempty"`  // set_mission: mission id, "" clears
}

// CommandResult is the answer on the event topic.
type CommandResult struct {
	Type  string         `json:"type"` // always "cmd_result"
	ID    string         `json:"id"`
	Cmd   string         `json:"cmd"`
	OK    bool           `json:"ok"`
	Error string         `json:"error,omitempty"`
	Data  map[string]any `json:"data,omitempty"`
	Time  time.Time      `json:"time"`
}

// command runs one platform command in the run loop and publishes its result.
func (b *Bridge) command(c command) {
	b.c.commands.Add(1)
	now := b.now()
	var cmd Command
	res := CommandResult{Type: "cmd_result", Time: now.UTC()}
	err := json.Unmarshal(c.payload, &cmd)
	if err == nil {
		res.ID, res.Cmd = cmd.ID, cmd.Cmd
		res.Data, err = b.runCommand(c.device, cmd, now)
	} else {
		err = fmt.Errorf("malformed command: %w", err)
	}
	if err != nil {
		res.Error = err.Error()
		b.log.Warn("command failed", "device", c.device, "cmd", cmd.Cmd, "id", cmd.ID, "error", err)
	} else {
		res.OK = true
		b.log.Info("command", "device", c.device, "cmd", cmd.Cmd, "id", cmd.ID)
	}
	b.publishEvent(c.device, res)
}

func (b *Bridge) runCommand(device string, cmd Command, now time.Time) (map[string]any, error) {
	switch cmd.Cmd {
	case "set_mission":
		if cmd.Mission != "" && !smartdeal.ValidID(cmd.Mission) {
			return nil, fmt.Errorf("mission %q: %w", cmd.Mission, smartdeal.ErrInvalidID)
		}
		b.tracker.SetMission(device, cmd.Mission)
		return map[string]any{"mission": cmd.Mission}, nil
	case "read_now":
		b.out.Reset()
		if !b.tracker.Snapshot(device, now, &b.out) {
			return nil, fmt.Errorf("drone %s not seen yet", device)
		}
		n := len(b.out.Readings)
		b.flush()
		return map[string]any{"readings": n}, nil
	case "set_interval":
		d, err := time.ParseDuration(cmd.Interval)
		if err != nil {
			return nil, fmt.Errorf("interval %q: %w", cmd.Interval, err)
		}
		if err := b.tracker.SetRate(cmd.Sensor, d); err != nil {
			return nil, err
		}
		for _, v := range b.tracker.Vehicles() {
			if v.Device == device {
				b.requestStreams(v.SystemID)
			}
		}
		return map[string]any{"rates": durations(b.tracker.Rates())}, nil
	case "report_config":
		signed := []int{}
		for id := range b.keys {
			signed = append(signed, int(id))
		}
		return map[string]any{
			"site": b.cfg.Site, "endpoints": b.cfg.Endpoints, "gcs_endpoints": b.cfg.GCSEndpoints,
			"system_id": b.cfg.SystemID, "devices": b.cfg.Devices, "signed_system_ids": signed,
			"rates": durations(b.tracker.Rates()), "link_timeout": b.cfg.LinkTimeout.String(),
			"mission": b.tracker.Mission(device), "stats": b.Stats(),
		}, nil
	case "":
		return nil, errors.New("missing cmd")
	}
	return nil, fmt.Errorf("unknown cmd %q", cmd.Cmd)
}

func durations(m map[string]time.Duration) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v.String()
	}
	return out
}
