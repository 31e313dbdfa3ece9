package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/devices"
	bridge "github.com/cd06/smartdeal/firmware-bridge"
)

// Command names accepted on smartdeal/v1/{site}/{device}/cmd.
const (
	CmdReadNow      = "read_now"
	CmdSetInterval  = "set_interval"
	CmdReportConfig = "report_config"
	CmdSetMission   = "set_mission"
)

// command is a request received on a cmd topic. The device of the topic is
// either the gateway's own (commands about any sensor, or all of them) or one
// sensor's device id (commands about that sensor).
type command struct {
	device string
	ID     string  `json:"id"`
	Cmd    string  `json:"cmd"`
	Sensor string  `json:"sensor"`
	Ivl    string  `json:"interval"`
	Msn    *string `json:"mission"`
}

// cmdResult is the answer published on the event topic.
type cmdResult struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Cmd   string `json:"cmd"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Data  any    `json:"data,omitempty"`
	Time  string `json:"time"`
}

// onCommand runs on paho's goroutine: parse, hand off, never block (a drone's
// command waits at most droneCmdWait for room in the bridge's queue).
func (g *Gateway) onCommand(topic string, payload []byte) {
	_, device, _, err := g.topics.Parse(topic)
	if err != nil {
		return
	}
	if device != g.device && g.sensors[device] == nil {
		if g.bridge != nil {
			g.droneCommand(topic, payload)
		}
		return // otherwise another gateway's or a bridge's device on this site
	}
	var c command
	if err := json.Unmarshal(payload, &c); err != nil || c.Cmd == "" {
		g.m.commands.WithLabelValues("invalid", "false").Inc()
		g.spoolJSON(device, cmdResult{Type: "cmd_result", ID: c.ID, Cmd: c.Cmd, OK: false,
			Error: "malformed command: want JSON {\"id\":…,\"cmd\":…}", Time: g.nowString()})
		return
	}
	c.device = device
	select {
	case g.cmds <- c:
	default:
		g.m.commands.WithLabelValues(c.Cmd, "false").Inc()
		g.log.Warn("command queue full: command dropped", "cmd", c.Cmd, "id", c.ID)
	}
}

// droneCmdWait bounds how long paho's goroutine waits for the bridge.
const droneCmdWait = 100 * time.Millisecond

// droneCommand hands a command to the MAVLink bridge, which answers it on the
// drone's event topic; a device that is not one of its drones is ignored.
func (g *Gateway) droneCommand(topic string, payload []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), droneCmdWait)
	defer cancel()
	err := g.bridge.HandleCommand(ctx, topic, payload)
	switch {
	case err == nil:
		g.m.commands.WithLabelValues("drone", "true").Inc()
	case errors.Is(err, bridge.ErrNotOurs):
	default:
		g.m.commands.WithLabelValues("drone", "false").Inc()
		g.log.Warn("drone command dropped", "topic", topic, "err", err)
	}
}

func (g *Gateway) nowString() string { return g.opts.now().UTC().Format(time.RFC3339) }

func (g *Gateway) commandLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-g.cmds:
			data, err := g.execute(ctx, c)
			res := cmdResult{Type: "cmd_result", ID: c.ID, Cmd: c.Cmd, OK: err == nil, Data: data, Time: g.nowString()}
			if err != nil {
				res.Error = err.Error()
			}
			g.m.commands.WithLabelValues(knownCmd(c.Cmd), fmt.Sprint(err == nil)).Inc()
			g.log.Info("command", "device", c.device, "cmd", c.Cmd, "id", c.ID, "ok", err == nil, "err", err)
			g.spoolJSON(c.device, res)
		}
	}
}

func knownCmd(c string) string {
	switch c {
	case CmdReadNow, CmdSetInterval, CmdReportConfig, CmdSetMission:
		return c
	}
	return "unknown"
}

// target returns the sensors a command is about.
func (g *Gateway) target(c command) ([]*sensorRunner, error) {
	dev := c.Sensor
	if dev == "" && c.device != g.device {
		dev = c.device
	}
	if dev == "" {
		return g.ordered, nil
	}
	if c.device != g.device && dev != c.device {
		return nil, fmt.Errorf("sensor %q: a sensor's cmd topic only commands that sensor", dev)
	}
	r := g.sensors[dev]
	if r == nil {
		return nil, fmt.Errorf("sensor %q: no such sensor on this gateway", dev)
	}
	return []*sensorRunner{r}, nil
}

func (g *Gateway) execute(ctx context.Context, c command) (any, error) {
	switch c.Cmd {
	case CmdReadNow:
		rs, err := g.target(c)
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		var errs []error
		for _, r := range rs {
			reply := make(chan readResult, 1)
			select {
			case r.readNow <- reply:
			default:
				errs = append(errs, fmt.Errorf("%s: busy", r.cfg.Device))
				continue
			}
			select {
			case res := <-reply:
				if res.err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", r.cfg.Device, res.err))
				} else {
					out[r.cfg.Device] = map[string]int{"readings": res.n}
				}
			case <-time.After(30 * time.Second):
				errs = append(errs, fmt.Errorf("%s: no answer within 30s", r.cfg.Device))
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return out, errors.Join(errs...)
	case CmdSetInterval:
		if c.Sensor == "" && c.device == g.device {
			return nil, errors.New("sensor: required")
		}
		rs, err := g.target(c)
		if err != nil {
			return nil, err
		}
		d, err := time.ParseDuration(c.Ivl)
		if err != nil {
			return nil, fmt.Errorf("interval: %q is not a duration (e.g. 30s)", c.Ivl)
		}
		if d < devices.MinInterval || d > devices.MaxInterval {
			return nil, fmt.Errorf("interval: %s out of range, want %s to %s", d, devices.MinInterval, devices.MaxInterval)
		}
		r := rs[0]
		g.mu.Lock()
		r.interval = d
		g.mu.Unlock()
		select {
		case <-r.setIvl: // replace a pending change
		default:
		}
		r.setIvl <- d
		return map[string]string{"sensor": r.cfg.Device, "interval": d.String()}, nil
	case CmdReportConfig:
		cfg := g.cfg.Redacted()
		g.mu.Lock()
		ivl := map[string]string{}
		missions := map[string]string{}
		for dev, r := range g.sensors {
			ivl[dev] = r.interval.String()
			if r.mission != "" {
				missions[dev] = r.mission
			}
		}
		mission := g.mission
		g.mu.Unlock()
		return map[string]any{"version": g.opts.version, "config": cfg, "intervals": ivl,
			"mission": mission, "sensor_missions": missions, "sensors": g.sensorDevices(), "drones": g.droneDevices()}, nil
	case CmdSetMission:
		if c.Msn == nil {
			return nil, errors.New("mission: required (empty string clears)")
		}
		m := *c.Msn
		if m != "" && !smartdeal.ValidID(m) {
			return nil, fmt.Errorf("mission: %q is not a valid id", m)
		}
		g.mu.Lock()
		if c.device == g.device && c.Sensor == "" {
			g.mission = m
		} else {
			rs, err := g.target(c)
			if err != nil {
				g.mu.Unlock()
				return nil, err
			}
			rs[0].mission = m
		}
		g.mu.Unlock()
		return map[string]string{"mission": m}, nil
	default:
		return nil, fmt.Errorf("cmd: unknown command %q, want read_now, set_interval, report_config or set_mission", c.Cmd)
	}
}
