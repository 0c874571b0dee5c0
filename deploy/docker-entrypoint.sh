#!/bin/sh
# `metarr api` or `metarr worker`; exec so the process gets SIGTERM directly (graceful shutdown).
set -e
cd /app
case "${1:-api}" in
  api) exec node packages/api/src/main.ts ;;
  worker) exec node packages/worker/src/main.ts ;;
  *) echo "usage: metarr api|worker" >&2; exit 2 ;;
esac
