#!/usr/bin/env bash
# Reproduces the end-to-end ingest benchmark of docs/benchmarks.md on this machine:
# a dedicated Mosquitto with max_inflight_messages 10000, InfluxDB 1.8.10, our
# ingest and, when built, Telegraf 1.37.2 with deploy/telegraf/telegraf-bench.conf,
# all driven by cmd/loadgen in one run.
#
#   scripts/bench-ingest.sh              # N=200000 messages over 100 devices
#   N=20000 MODES="broker live" scripts/bench-ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-200000}
DEVICES=${DEVICES:-100}
MODES=${MODES:-"broker live drain"}
FORMATS=${FORMATS:-"lp senml"}
CACHE=${SMARTDEAL_CACHE:-$HOME/.cache/smartdeal}
TELEGRAF=${TELEGRAF:-$CACHE/bin/telegraf}

work=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
cleanup() { pkill -f "mosquitto -c $work/mosquitto.conf" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/mosquitto.conf" <<EOF
user root
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages 10000
max_queued_messages 1000000
max_queued_bytes 0
log_dest none
EOF
go build -o "$work/ingest" ./cmd/ingest
go build -o "$work/loadgen" ./cmd/loadgen
echo "machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1048576)}') GiB, $(mosquitto -h | head -1)"

export SMARTDEAL_MQTT_URL=tcp://127.0.0.1:$port SMARTDEAL_LOG_LEVEL=warn
cat > "$work/run.sh" <<EOF
set -eu
export SMARTDEAL_INFLUX_URL=\$SMARTDEAL_TEST_INFLUX_URL
# A fresh broker for every run: persistent sessions of earlier runs would
# otherwise keep receiving (and holding) their share of the messages.
fresh_broker() {
  pkill -f "mosquitto -c $work/mosquitto.conf" 2>/dev/null && sleep 0.5 || true
  mosquitto -c "$work/mosquitto.conf" &
  for i in \$(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return; sleep 0.05; done
}
for mode in $MODES; do
  for format in $FORMATS; do
    if [ "\$mode" = broker ]; then
      [ "\$format" = lp ] || continue
      fresh_broker
      echo "== broker alone (QoS 1 publisher -> subscriber)"
      "$work/loadgen" -mode broker -format lp -n $N -devices $DEVICES
      continue
    fi
    fresh_broker
    echo "== smartdeal ingest: \$mode \$format"
    SMARTDEAL_MQTT_CLIENT_ID=bench-\$mode-\$format-\$\$ SMARTDEAL_MQTT_GROUP=bench-\$mode-\$format-\$\$ "$work/loadgen" -mode \$mode -format \$format -n $N -devices $DEVICES -- "$work/ingest"
    if [ "\$format" = lp ] && [ -x "$TELEGRAF" ]; then
      fresh_broker
      echo "== telegraf: \$mode \$format"
      "$work/loadgen" -mode \$mode -format lp -n $N -devices $DEVICES -- "$TELEGRAF" --config deploy/telegraf/telegraf-bench.conf
    fi
  done
done
EOF
go run ./cmd/withservices -no-mqtt -- bash "$work/run.sh"
