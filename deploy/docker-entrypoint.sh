#!/bin/sh
# `metarr api` or `metarr worker`. Started as root (the default), it runs Metarr as PUID:PGID the
# way linuxserver.io images do (NAS shares owned by e.g. 99:100 stay writable): it adjusts the
# image's `node` user to those ids, owns the data dir, applies UMASK, then drops root with setpriv.
# Started as a non-root user (`docker run --user`), it runs as that user unchanged. TZ is read by
# Node itself. exec, so the process gets SIGTERM directly (graceful shutdown).
# `metarr health` is the image's HEALTHCHECK: the API's readiness endpoint, or for a worker
# container (pid 1 runs the worker) its live instance in the job queue's registry.
# METARR_APP_DIR, METARR_RUN_USER and METARR_PID1_CMDLINE exist for the tests.
set -e
APP_DIR="${METARR_APP_DIR:-/app}"
RUN_USER="${METARR_RUN_USER:-node}"
if [ "$1" = "health" ]; then
  cd "$APP_DIR"
  case "$(tr '\0' ' ' < "${METARR_PID1_CMDLINE:-/proc/1/cmdline}")" in
    *packages/worker/src/main.ts*) exec node packages/worker/src/health.ts ;;
  esac
  exec node -e "fetch('http://127.0.0.1:'+(process.env.METARR_PORT||7979)+(process.env.METARR_BASE_PATH||'')+'/api/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
fi
case "${1:-api}" in
  api) main=packages/api/src/main.ts ;;
  worker) main=packages/worker/src/main.ts ;;
  *) echo "usage: metarr api|worker" >&2; exit 2 ;;
esac
case "${PUID:-1000}${PGID:-1000}" in
  *[!0-9]*) echo "metarr: PUID and PGID must be numeric ids" >&2; exit 2 ;;
esac
case "${UMASK:-022}" in
  *[!0-7]*) echo "metarr: UMASK must be octal, e.g. 002" >&2; exit 2 ;;
esac
umask "${UMASK:-022}"
cd "$APP_DIR"
if [ "$(id -u)" = "0" ]; then
  PUID="${PUID:-1000}"
  PGID="${PGID:-1000}"
  [ "$(id -g "$RUN_USER")" = "$PGID" ] || groupmod -o -g "$PGID" "$RUN_USER"
  [ "$(id -u "$RUN_USER")" = "$PUID" ] || usermod -o -u "$PUID" "$RUN_USER"
  if [ -n "$METARR_DATA_DIR" ]; then
    mkdir -p "$METARR_DATA_DIR"
    chown -R "$PUID:$PGID" "$METARR_DATA_DIR"
  fi
  exec setpriv --reuid="$PUID" --regid="$PGID" --init-groups node "$main"
fi
exec node "$main"
