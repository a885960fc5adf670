#!/usr/bin/env bash
# `make run`'s video part: when nginx with the RTMP module and ffmpeg are installed, start
# `livebase media serve` in the background and, once the app answers, push the test
# pattern into the demo's live show. Installs nothing; says how to get what is missing.
set -uo pipefail
LIVEBASE=$1; DATA=$2; HOST=$3; PORT=$4; ENV=$5
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  echo "  video is off: ${missing[*]} not installed. To watch video in the demo:"
  echo "    sudo apt-get install nginx libnginx-mod-rtmp ffmpeg   # then make run again"
  echo ""
  exit 0
fi
mkdir -p "$DATA"
env $ENV "$LIVEBASE" media serve >"$DATA/media.log" 2>&1 &
MEDIA=$!
echo "  media server (nginx-rtmp) started, pid $MEDIA, log $DATA/media.log"
(
  # Wait for the app, then stream into the demo's live show until the app goes away.
  for _ in $(seq 1 120); do
    curl -fs "http://$HOST:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 1
  done
  SHOW=$(curl -fs "http://$HOST:$PORT/api/v1/shows?status=live" | sed -n 's/.*"id":"\(show_[a-z0-9]*\)".*/\1/p' | head -1)
  if [ -n "$SHOW" ]; then
    env $ENV "$LIVEBASE" media test-stream "$SHOW" --size 854x480 --bitrate 1200 >>"$DATA/media.log" 2>&1
  fi
  kill "$MEDIA" 2>/dev/null
) &
echo "  a test pattern will stream into the demo's live show once the app is up"
echo ""
