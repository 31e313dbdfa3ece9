package main

import (
	"bytes"
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/cd06/smartdeal"
	"github.com/cd06/smartdeal/dashboards/brokeracl"
	"github.com/cd06/smartdeal/dashboards/civic"
	"github.com/cd06/smartdeal/dashboards/web"
)

// deviceAccounts is what the broker's hook reads of the registry
// (sqlstore.Store): the devices and the hashes of the provisioned ones.
type deviceAccounts interface {
	Devices(ctx context.Context, siteID string) ([]*civic.Device, error)
	DeviceHashes(ctx context.Context) (map[string]string, error)
}

// brokerReload is how often the hook re-reads the registry: a revocation
// takes effect within it (a provisioning at once: a connection with unknown
// credentials re-reads the registry before it is refused).
const brokerReload = 5 * time.Second

// registryAuth is the embedded broker's authentication and ACL hook: the
// same rules as Mosquitto's (dashboards/brokeracl). The platform's own
// services have accounts with passwords drawn at start (serviceAccount);
// devices authenticate with the credentials provisioned in the registry and
// publish only under their own site/device topics. Anonymous clients and
// unknown users are refused.
type registryAuth struct {
	mochi.HookBase
	topics   smartdeal.Topics
	log      *slog.Logger
	services brokeracl.Accounts // fixed at start
	store    atomic.Pointer[deviceAccounts]
	devices  atomic.Pointer[brokeracl.Accounts]
	forced   atomic.Int64 // unix ms of the last reload an unknown user caused
}

// forcedReloadEvery bounds the reloads that connections with unknown user
// names cause, so a flood of them costs the database little.
const forcedReloadEvery = 250 * time.Millisecond

func newRegistryAuth(t smartdeal.Topics, log *slog.Logger) *registryAuth {
	h := &registryAuth{topics: t, log: log, services: brokeracl.Accounts{}}
	empty := brokeracl.Accounts{}
	h.devices.Store(&empty)
	return h
}

// ID implements mochi.Hook.
func (h *registryAuth) ID() string { return "smartdeal-registry-auth" }

// Provides implements mochi.Hook.
func (h *registryAuth) Provides(b byte) bool {
	return b == mochi.OnConnectAuthenticate || b == mochi.OnACLCheck
}

// serviceAccount adds a platform service's account with a new random
// password and returns it.
func (h *registryAuth) serviceAccount(user string, rules []brokeracl.Rule) (password string) {
	pw := web.RandomToken()
	hash, err := brokeracl.Hash(pw, brokeracl.Iterations)
	if err != nil {
		panic(err) // crypto/rand failing: nothing can run
	}
	h.services[user] = brokeracl.Account{Hash: hash, Rules: rules}
	return pw
}

// useStore starts reading device accounts from the registry, now and every
// brokerReload until ctx ends.
func (h *registryAuth) useStore(ctx context.Context, s deviceAccounts) {
	h.store.Store(&s)
	h.reload(ctx)
	go func() {
		t := time.NewTicker(brokerReload)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				h.reload(ctx)
			}
		}
	}()
}

// reload re-reads the provisioned devices; on failure the last accounts stay.
func (h *registryAuth) reload(ctx context.Context) {
	sp := h.store.Load()
	if sp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ds, err := (*sp).Devices(ctx, "")
	if err != nil {
		h.log.Warn("broker: device accounts not reloaded", "err", err)
		return
	}
	hs, err := (*sp).DeviceHashes(ctx)
	if err != nil {
		h.log.Warn("broker: device accounts not reloaded", "err", err)
		return
	}
	acc := brokeracl.DeviceAccounts(h.topics, ds, hs)
	h.devices.Store(&acc)
}

// OnConnectAuthenticate implements mochi.Hook.
func (h *registryAuth) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	user, pw := string(pk.Connect.Username), string(pk.Connect.Password)
	if user == "" || !bytes.Equal(cl.Properties.Username, pk.Connect.Username) {
		h.log.Debug("broker: anonymous connection refused", "client", cl.ID)
		return false
	}
	if _, ok := h.services[user]; ok {
		return h.services.Authenticate(user, pw)
	}
	if _, ok := (*h.devices.Load())[user]; !ok {
		now, last := time.Now().UnixMilli(), h.forced.Load()
		if now-last >= forcedReloadEvery.Milliseconds() && h.forced.CompareAndSwap(last, now) {
			h.reload(context.Background()) // provisioned since the last reload?
		}
	}
	ok := (*h.devices.Load()).Authenticate(user, pw)
	if !ok {
		h.log.Info("broker: connection refused", "user", user, "client", cl.ID)
	}
	return ok
}

// OnACLCheck implements mochi.Hook: a service's rules, or a device's rules
// from the last reload (a revoked device loses them).
func (h *registryAuth) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if _, ok := h.services[user]; ok {
		return h.services.Allowed(user, topic, write)
	}
	ok := (*h.devices.Load()).Allowed(user, topic, write)
	if !ok {
		h.log.Debug("broker: refused by the ACL", "user", user, "topic", topic, "write", write)
	}
	return ok
}
