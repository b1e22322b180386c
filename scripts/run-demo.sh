#!/usr/bin/env bash
# Create (once) the SQLite demo site with the CRM app and demo data, then run it with
# `lowcode start` (web server, background jobs and the scheduler, so scheduled jobs run).
#
# Environment:
#   ADMIN_PASSWORD   Administrator's password for a new site (default: admin)
#   DEMO_SITE        site name (default: demo.localhost)
#   DEMO_COUNT       demo records to generate (default: 2000)
#   DEMO_HOST, DEMO_PORT  where to serve (default: 127.0.0.1, 8000); the realtime
#                    service listens beside it on the bench's socketio_port (default 9000)
#   LOWCODE_SITES    sites directory (default: <repo>/sites)
#
# Run through `make run`, which installs .venv first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LOWCODE="$ROOT/.venv/bin/lowcode"
SITE="${DEMO_SITE:-demo.localhost}"
ADMIN_PASSWORD="${ADMIN_PASSWORD:-admin}"
DEMO_COUNT="${DEMO_COUNT:-2000}"
HOST="${DEMO_HOST:-127.0.0.1}"
PORT="${DEMO_PORT:-8000}"
export LOWCODE_SITES="${LOWCODE_SITES:-$ROOT/sites}"

SITE_DIR="$LOWCODE_SITES/$SITE"
# Markers so that a re-run neither re-installs the app nor duplicates demo data;
# they live in the site's directory, so they go away with the site.
APP_MARK="$SITE_DIR/.demo-app-installed"
DATA_MARK="$SITE_DIR/.demo-data-generated"
# The demo site's admin password, kept only to print the login again on later runs.
PW_FILE="$SITE_DIR/.demo-admin-password"

die() { echo "run-demo: ERROR: $*" >&2; exit 1; }
step() { echo; echo "==> $*"; }

[ -x "$LOWCODE" ] || die "$LOWCODE not found; run 'make install' (or 'make run') first"
[[ "$DEMO_COUNT" =~ ^[0-9]+$ ]] || die "DEMO_COUNT must be a number"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "DEMO_PORT must be a number"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is already in use; stop whatever listens there or run with DEMO_PORT=<free port>"
fi

RT_PORT="$("$ROOT/.venv/bin/python" -c 'import json, os, sys
p = os.path.join(sys.argv[1], "common_site_config.json")
print((json.load(open(p)) if os.path.exists(p) else {}).get("socketio_port") or 9000)' "$LOWCODE_SITES")"
if (exec 3<>"/dev/tcp/127.0.0.1/$RT_PORT") 2>/dev/null; then
    echo "run-demo: WARNING: port $RT_PORT (realtime) is in use: the desk works, without live updates" >&2
fi

if [ ! -f "$SITE_DIR/site_config.json" ]; then
    step "creating site $SITE (SQLite) in $LOWCODE_SITES"
    mkdir -p "$LOWCODE_SITES"
    "$LOWCODE" new-site "$SITE" --db-type sqlite --admin-password "$ADMIN_PASSWORD"
    [ -f "$SITE_DIR/site_config.json" ] || die "new-site did not create $SITE_DIR/site_config.json"
    rm -f "$APP_MARK" "$DATA_MARK"
    (umask 077; printf '%s\n' "$ADMIN_PASSWORD" >"$PW_FILE")
    password_note="$ADMIN_PASSWORD"
else
    echo "run-demo: site $SITE exists ($SITE_DIR), keeping it"
    if [ -f "$PW_FILE" ]; then
        password_note="$(head -n1 "$PW_FILE")"
    else
        password_note="the password the site was created with"
    fi
fi

if [ ! -f "$APP_MARK" ]; then
    step "installing crm_app, service_app and selling on $SITE"
    "$LOWCODE" --site "$SITE" install-app crm_app
    "$LOWCODE" --site "$SITE" install-app service_app
    "$LOWCODE" --site "$SITE" install-app selling
    touch "$APP_MARK"
fi
# Sites made before the service app: add it once (install-app skips an installed app).
SERVICE_MARK="$SITE_DIR/.demo-service-app-installed"
if [ ! -f "$SERVICE_MARK" ]; then
    grep -qx service_app "$LOWCODE_SITES/apps.txt" 2>/dev/null || echo service_app >>"$LOWCODE_SITES/apps.txt"
    "$LOWCODE" --site "$SITE" install-app service_app
    touch "$SERVICE_MARK"
fi
# Sites made before the selling app (orders, invoices, payments, stock): add it once.
SELLING_MARK="$SITE_DIR/.demo-selling-app-installed"
if [ ! -f "$SELLING_MARK" ]; then
    grep -qx selling "$LOWCODE_SITES/apps.txt" 2>/dev/null || echo selling >>"$LOWCODE_SITES/apps.txt"
    "$LOWCODE" --site "$SITE" install-app selling
    touch "$SELLING_MARK"
fi

if [ ! -f "$DATA_MARK" ] && ! "$ROOT/.venv/bin/python" -c "import crm_app.demo" 2>/dev/null; then
    echo "run-demo: crm_app has no demo data generator yet; the site starts empty"
elif [ ! -f "$DATA_MARK" ]; then
    step "generating demo data ($DEMO_COUNT records)"
    "$LOWCODE" --site "$SITE" execute crm_app.demo.generate --kwargs "{\"count\": $DEMO_COUNT}"
    touch "$DATA_MARK"
fi
SERVICE_DATA_MARK="$SITE_DIR/.demo-service-data-generated"
if [ ! -f "$SERVICE_DATA_MARK" ]; then
    step "generating the service desk's demo data (SLA, cases, time logs, surveys, knowledge base)"
    "$LOWCODE" --site "$SITE" execute service_app.demo.generate --kwargs "{\"count\": $((DEMO_COUNT / 10))}"
    touch "$SERVICE_DATA_MARK"
fi
SELLING_DATA_MARK="$SITE_DIR/.demo-selling-data-generated"
if [ ! -f "$SELLING_DATA_MARK" ]; then
    step "generating the selling app's demo data (stock, orders, invoices, payments)"
    "$LOWCODE" --site "$SITE" execute selling.demo.generate --kwargs "{\"count\": $((DEMO_COUNT / 10))}"
    touch "$SELLING_DATA_MARK"
fi

cat <<EOF

==================================================================
  Lowcode CRM demo

  URL:    http://$SITE:$PORT
          http://127.0.0.1:$PORT
          (live updates: Socket.IO on port $RT_PORT)
  Login:  Administrator / $password_note
          sales1@demo.local, support@demo.local, agent1@demo.local,
          accounts@demo.local, stock@demo.local / demo1234

  Scheduled jobs (follow-ups, escalations, expiring quotations,
  nightly scoring) run every minute in the server process.
  Stop with Ctrl+C.
==================================================================

EOF

exec "$LOWCODE" start --host "$HOST" --port "$PORT"
