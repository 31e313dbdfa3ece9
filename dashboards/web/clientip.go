package web

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// trustedProxies are the reverse proxies (ingress, load balancer) whose
// forwarding header names the client; Config.TrustedProxies parsed.
type trustedProxies []netip.Prefix

func ParseTrustedProxies(list []string) (trustedProxies, error) {
	var out trustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("api.trusted_proxies: %q: want an IP address or a CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (t trustedProxies) contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the address the audit log records (clientAddr as text).
func (k *Kit) ClientIP(c *fiber.Ctx) string {
	if a := k.ClientAddr(c); a.IsValid() {
		return a.String()
	}
	return c.Context().RemoteIP().String()
}

// clientAddr is the client's address. A request from a trusted proxy is
// attributed to the right-most address of its forwarding header that is not
// itself a trusted proxy: each proxy appends the address it received the
// request from, so everything left of that is whatever the client chose to
// send (Fiber's c.IP() takes the left-most, which a client can forge to get a
// fresh rate-limit budget per request). A request from anywhere else is
// attributed to its connection's address, headers ignored. Rate limits key
// it with clientKey (IPv6 per /64).
func (k *Kit) ClientAddr(c *fiber.Ctx) netip.Addr {
	remote, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return netip.Addr{}
	}
	remote = remote.Unmap()
	if len(k.proxies) == 0 || !k.proxies.contains(remote) {
		return remote
	}
	hops := strings.Split(c.Get(k.cfg.ProxyHeader), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: trust nothing further left
		}
		if !k.proxies.contains(hop) {
			return hop.Unmap().WithZone("")
		}
	}
	return remote
}
