#!/bin/sh
# Install the SMART Deal gateway on a Raspberry Pi (Raspberry Pi OS / Debian).
#
#   sudo ./install.sh ./smartdeal-gateway-linux-arm64   # or -linux-armv7 on 32-bit OS
#
# It installs the binary, creates the smartdeal-gw system user in the bus
# groups, installs the example config if none exists, and enables the service.
set -eu

BIN=${1:-}
if [ -z "$BIN" ] || [ ! -f "$BIN" ]; then
	echo "usage: sudo $0 PATH-TO-smartdeal-gateway-BINARY" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "run as root (sudo)" >&2
	exit 1
fi
HERE=$(cd "$(dirname "$0")" && pwd)

# The binary must run on this board before anything else changes.
"$BIN" -version

install -m 0755 "$BIN" /usr/local/bin/smartdeal-gateway

if ! id smartdeal-gw >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /var/lib/smartdeal-gateway \
		--shell /usr/sbin/nologin smartdeal-gw
fi
for g in i2c gpio spi dialout; do
	if getent group "$g" >/dev/null; then
		usermod -a -G "$g" smartdeal-gw
	fi
done

install -d -m 0750 -o root -g smartdeal-gw /etc/smartdeal
if [ ! -f /etc/smartdeal/gateway.yaml ]; then
	install -m 0640 -o root -g smartdeal-gw "$HERE/gateway.example.yaml" /etc/smartdeal/gateway.yaml
	echo "installed /etc/smartdeal/gateway.yaml: edit site, broker and sensors"
fi
if [ ! -f /etc/smartdeal/gateway.env ]; then
	install -m 0640 -o root -g smartdeal-gw /dev/null /etc/smartdeal/gateway.env
	echo "# SMARTDEAL_MQTT_PASSWORD=..." >/etc/smartdeal/gateway.env
fi

# Buses the sensors use (effective after a reboot).
if command -v raspi-config >/dev/null 2>&1; then
	raspi-config nonint do_i2c 0 || true
	raspi-config nonint do_onewire 0 || true
	raspi-config nonint do_serial_hw 0 || true
fi
# The Pi has no RTC: make sure NTP sets the clock (the gateway holds readings until then).
if systemctl list-unit-files systemd-timesyncd.service >/dev/null 2>&1; then
	systemctl enable --now systemd-timesyncd.service || true
fi

install -m 0644 "$HERE/smartdeal-gateway.service" /etc/systemd/system/smartdeal-gateway.service
systemctl daemon-reload
if /usr/local/bin/smartdeal-gateway -config /etc/smartdeal/gateway.yaml -check; then
	systemctl enable --now smartdeal-gateway.service
	echo "started: journalctl -u smartdeal-gateway -f ; curl -s 127.0.0.1:9102/metrics"
else
	systemctl enable smartdeal-gateway.service
	echo "fix /etc/smartdeal/gateway.yaml, then: systemctl start smartdeal-gateway" >&2
	exit 1
fi
