#!/usr/bin/env bash
# Runs the ssekit demo behind a local nginx (Debian's package, installed if missing) and shows
# that events cross the proxy one by one: each line is printed with the time it arrived.
#   npm start -w @ssekit/example-nginx      (NGINX_PORT=8080 DEMO_PORT=3100 to change the ports)
# KEEP=1 leaves nginx and the demo running until Ctrl+C, for a browser at http://127.0.0.1:$NGINX_PORT.
set -euo pipefail
cd "$(dirname "$0")"

NGINX_PORT="${NGINX_PORT:-8080}"
DEMO_PORT="${DEMO_PORT:-3100}"

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "nginx is not installed: installing Debian's package (needs root)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

prefix="$(mktemp -d -t ssekit-nginx-XXXXXX)"
chmod 755 "$prefix"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$prefix"
}
trap cleanup EXIT INT TERM

sed -e "s#__PREFIX__#$prefix#g" -e "s#__NGINX_PORT__#$NGINX_PORT#g" -e "s#__DEMO_PORT__#$DEMO_PORT#g" \
  nginx.conf >"$prefix/nginx.conf"

echo "starting the demo on 127.0.0.1:$DEMO_PORT"
(cd ../demo && node scripts/build.mjs)
PORT="$DEMO_PORT" HOST=127.0.0.1 node --import tsx --conditions=source ../demo/src/server.ts \
  >"$prefix/demo.log" 2>&1 &
pids+=($!)
echo "starting nginx on 127.0.0.1:$NGINX_PORT"
"$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/api/figures" && break
  sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/api/figures" || {
  echo "the demo did not come up behind nginx:"; cat "$prefix/demo.log" "$prefix/error.log"; exit 1
}

# Prints each SSE line that carries an id or a token with the milliseconds since the request.
stamp() {
  local start
  start=$(date +%s%3N)
  while IFS= read -r line; do
    case "$line" in
      id:* | data:*\"text\"*) printf '  +%5d ms  %s\n' "$(($(date +%s%3N) - start))" "${line:0:90}" ;;
    esac
  done
}

echo
echo "1. The market through nginx (proxy_buffering off): one tick every 500 ms"
curl -sN --max-time 3 "http://127.0.0.1:$NGINX_PORT/events/market" | stamp || true

echo
echo "2. A chat answer through nginx: tokens one by one, tens of ms apart"
curl -sN --max-time 4 -H 'content-type: application/json' \
  -d '{"prompt":"Does nginx buffer my tokens?"}' "http://127.0.0.1:$NGINX_PORT/api/chat" |
  stamp | head -n 12 || true

echo
echo "3. For contrast, /gzipped/ buffers and gzips text/event-stream (the classic mistake):"
echo "   the ticks wait in nginx, so for 3 s nothing at all arrives"
curl -sN --compressed --max-time 3 "http://127.0.0.1:$NGINX_PORT/gzipped/events/market" | stamp || true

if [ "${KEEP:-0}" = "1" ]; then
  echo
  echo "The demo is at http://127.0.0.1:$NGINX_PORT behind nginx; Ctrl+C stops both."
  wait
fi
