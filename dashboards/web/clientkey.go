package web

import (
	"net/netip"

	"github.com/gofiber/fiber/v2"
)

// Prefix lengths of the per-address limits. An IPv6 host picks any address in
// its /64 at will (SLAAC privacy addresses change daily, and a subscriber gets
// at least a /64), so a /64 is one client, like one IPv4 address. Sign-ups
// are also limited per network: a /24 of IPv4 (256 addresses, often one
// operator's block) or a /48 of IPv6 (a site: one organisation or one
// hosting customer; ISPs give households a /56 or a /60 inside theirs). The
// /48 rather than the /56 because one attacker renting a /48 has 256 /56s;
// the price is that several households of an ISP that hands out /56s from one
// /48 share that budget, which at one sign-up per household is generous.
const (
	clientBits4, clientBits6 = 32, 64
	netBits4, netBits6       = 24, 48
)

// prefixKey is a's network of the given length as text ("2001:db8:1:2::/64"),
// or a itself when the length is the whole address ("203.0.113.7").
func prefixKey(a netip.Addr, bits4, bits6 int) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap().WithZone("")
	bits := bits6
	if a.Is4() {
		bits = bits4
	}
	if bits >= a.BitLen() {
		return a.String()
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// clientKey names the client in every per-address limit (sign-up, sign-in,
// live streams, public reads): its IPv4 address or its IPv6 /64.
func (k *Kit) ClientKey(c *fiber.Ctx) string {
	return prefixKey(k.ClientAddr(c), clientBits4, clientBits6)
}

// networkKey names the client's network for the sign-up limit per network:
// its IPv4 /24 or its IPv6 /48.
func (k *Kit) NetworkKey(c *fiber.Ctx) string {
	return prefixKey(k.ClientAddr(c), netBits4, netBits6)
}
