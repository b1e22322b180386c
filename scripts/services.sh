#!/usr/bin/env bash
# Project-private MariaDB, Redis and IMAP (Dovecot) servers for tests, benchmarks and development.
#
#   scripts/services.sh start [SERVICE...]   start them (idempotent per service: leaves running ones alone)
#   scripts/services.sh stop [SERVICE...]    shut them down
#   scripts/services.sh status               say whether each is up (exit 0 only if all are)
#                              SERVICE: mariadb, replica, redis, dovecot (default: all; the replica
#                              only when the primary writes a binary log, see below)
#   scripts/services.sh env      print `export ...` lines for the tests:
#                                  eval "$(scripts/services.sh env)"
#
# All listen on 127.0.0.1 only, on non-default ports, with their data in .run/
# of this checkout. The system's own MariaDB/Redis/Dovecot (port 3306/6379/143,
# /etc/mysql, /etc/dovecot, systemd units) are never read or touched.
#
# Settings (environment):
#   LOWCODE_MARIADB_PORT            default 3307
#   LOWCODE_REDIS_PORT              default 6390
#   LOWCODE_IMAP_PORT               default 3143 (Dovecot, IMAP with STARTTLS; test user lowcode / lowcode-imap-pw)
#   LOWCODE_IMAPS_PORT              default 3993 (Dovecot, IMAP over TLS; self-signed certificate
#                                   for 127.0.0.1 in .run/dovecot/cert.pem, LOWCODE_TEST_IMAP_CA in 'env')
#   LOWCODE_MARIADB_ROOT_USER       default lowcode_root
#   LOWCODE_MARIADB_ROOT_PASSWORD   default lowcode_root_pw
#   LOWCODE_MARIADB_BUFFER_POOL     default 1G
#   LOWCODE_MARIADB_LOG_FILE_SIZE   default 256M (InnoDB redo log; a throw-away test instance needs less)
#   LOWCODE_MARIADB_REPLICA_PORT    default 3309: the read replica, a second mariadbd (data in
#                                   .run/mariadb-replica) replicating from the primary by GTID,
#                                   seeded from a mariadb-dump of it; read-only for all but root
#   LOWCODE_MARIADB_REPLICA_BUFFER_POOL  default the primary's: a replica answers the same reads
#   LOWCODE_MARIADB_MONITOR_PASSWORD     default lowcode_monitor_pw: password of lowcode_monitor,
#                                   the account that reads replicas' lag (SLAVE MONITOR only, no
#                                   database; sites name it as replica_monitor_user/_password)
#   LOWCODE_SERVICES_TIMEOUT        seconds to wait for start/stop, default 90
#   LOWCODE_RUN_DIR                 default <repo>/.run
#   LOWCODE_SERVICES_EXTRA_BIND     one more address for MariaDB and Redis to listen on, beside
#                                   127.0.0.1 (the multi-host tests' bridge address; empty by default).
#                                   Redis then answers the bridge's hosts (its protected mode off):
#                                   only for a private bridge that this machine's tests make
#
# If a port is not set explicitly and the default one is taken by some other
# program (e.g. the same services of another checkout), the next free port is
# used. The ports in use are recorded in .run/ports.env, and `env` prints them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${LOWCODE_RUN_DIR:-$ROOT/.run}"
HOST=127.0.0.1
EXTRA_BIND="${LOWCODE_SERVICES_EXTRA_BIND:-}"
TIMEOUT="${LOWCODE_SERVICES_TIMEOUT:-90}"
OS_USER="$(id -un)"

DB_USER="${LOWCODE_MARIADB_ROOT_USER:-lowcode_root}"
DB_PASSWORD="${LOWCODE_MARIADB_ROOT_PASSWORD:-lowcode_root_pw}"
BUFFER_POOL="${LOWCODE_MARIADB_BUFFER_POOL:-1G}"
LOG_FILE_SIZE="${LOWCODE_MARIADB_LOG_FILE_SIZE:-256M}"

MARIADB_DATA="$RUN_DIR/mariadb"
MARIADB_PID="$RUN_DIR/mariadb.pid"
MARIADB_LOG="$RUN_DIR/mariadb.log"
MARIADB_SOCK="$RUN_DIR/mariadb.sock"
REDIS_DIR="$RUN_DIR/redis"
REDIS_PID="$RUN_DIR/redis.pid"
REDIS_LOG="$RUN_DIR/redis.log"
REPLICA_DATA="$RUN_DIR/mariadb-replica"
REPLICA_PID="$RUN_DIR/mariadb-replica.pid"
REPLICA_LOG="$RUN_DIR/mariadb-replica.log"
REPLICA_SOCK="$RUN_DIR/mariadb-replica.sock"
REPLICA_BUFFER_POOL="${LOWCODE_MARIADB_REPLICA_BUFFER_POOL:-$BUFFER_POOL}"
# The options the primary and the replica share (each adds its own: ports, files, roles).
MARIADBD_COMMON=(
    --skip-name-resolve
    --character-set-server=utf8mb4
    --collation-server=utf8mb4_unicode_ci
    --innodb-flush-log-at-trx-commit=2
    --max-connections=300
    --max-allowed-packet=64M
)
# The account the replica logs in to the primary with (REPLICATION SLAVE only, loopback only).
REPL_USER=lowcode_repl
REPL_PASSWORD=lowcode_repl_pw
# The account that reads a replica's lag (SHOW SLAVE STATUS): SLAVE MONITOR only, loopback only.
# Made on the primary, it replicates. Sites' own users never get SLAVE MONITOR: it also shows
# the relay log, i.e. every site's statements.
MONITOR_USER=lowcode_monitor
MONITOR_PASSWORD="${LOWCODE_MARIADB_MONITOR_PASSWORD:-lowcode_monitor_pw}"
DOVECOT_DIR="$RUN_DIR/dovecot"
DOVECOT_CONF="$DOVECOT_DIR/dovecot.conf"
DOVECOT_LOG="$RUN_DIR/dovecot.log"
PORTS_FILE="$RUN_DIR/ports.env"

DEFAULT_MARIADB_PORT=3307
DEFAULT_REDIS_PORT=6390
DEFAULT_REPLICA_PORT=3309
DEFAULT_IMAP_PORT=3143
DEFAULT_IMAPS_PORT=3993
# The tests' mailbox owner (each test works in its own folder).
IMAP_TEST_USER=lowcode
IMAP_TEST_PASSWORD=lowcode-imap-pw

# A unix socket path must fit in 108 bytes.
if [ "${#MARIADB_SOCK}" -gt 100 ]; then
    MARIADB_SOCK="/tmp/lowcode-mariadb-$(printf '%s' "$RUN_DIR" | md5sum | cut -c1-12).sock"
fi
if [ "${#REPLICA_SOCK}" -gt 100 ]; then
    REPLICA_SOCK="/tmp/lowcode-mariadb-replica-$(printf '%s' "$RUN_DIR" | md5sum | cut -c1-12).sock"
fi

log() { echo "services: $*"; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

# Something accepts TCP connections on HOST:$1.
port_in_use() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Print the pid from pid file $1 if that process is alive and its command line
# contains $2 (guards against a reused pid).
live_pid() {
    local pidfile="$1" needle="$2" pid
    [ -f "$pidfile" ] || return 1
    pid="$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)"
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$needle" || return 1
    echo "$pid"
}

recorded_port() {  # $1 = MARIADB_PORT | REDIS_PORT | IMAP_PORT | IMAPS_PORT | REPLICA_PORT
    [ -f "$PORTS_FILE" ] || return 0
    sed -n "s/^$1=\([0-9][0-9]*\)$/\1/p" "$PORTS_FILE" | tail -n1
}

record_ports() {
    mkdir -p "$RUN_DIR"
    printf 'MARIADB_PORT=%s\nREDIS_PORT=%s\nIMAP_PORT=%s\nIMAPS_PORT=%s\nREPLICA_PORT=%s\n' "$MARIADB_PORT" \
        "$REDIS_PORT" "$IMAP_PORT" "$IMAPS_PORT" "$REPLICA_PORT" >"$PORTS_FILE.tmp"
    mv -f "$PORTS_FILE.tmp" "$PORTS_FILE"
}

# Ports: the running server's (as recorded) > explicit env > recorded > default.
resolve_ports() {
    local rec_m rec_r rec_i rec_s rec_p
    rec_m="$(recorded_port MARIADB_PORT)"
    rec_r="$(recorded_port REDIS_PORT)"
    rec_i="$(recorded_port IMAP_PORT)"
    rec_s="$(recorded_port IMAPS_PORT)"
    rec_p="$(recorded_port REPLICA_PORT)"
    if mariadb_pid >/dev/null && [ -n "$rec_m" ]; then
        MARIADB_PORT="$rec_m"
    else
        MARIADB_PORT="${LOWCODE_MARIADB_PORT:-${rec_m:-$DEFAULT_MARIADB_PORT}}"
    fi
    if redis_pid >/dev/null && [ -n "$rec_r" ]; then
        REDIS_PORT="$rec_r"
    else
        REDIS_PORT="${LOWCODE_REDIS_PORT:-${rec_r:-$DEFAULT_REDIS_PORT}}"
    fi
    if replica_pid >/dev/null && [ -n "$rec_p" ]; then
        REPLICA_PORT="$rec_p"
    else
        REPLICA_PORT="${LOWCODE_MARIADB_REPLICA_PORT:-${rec_p:-$DEFAULT_REPLICA_PORT}}"
    fi
    if dovecot_pid >/dev/null && [ -n "$rec_i" ] && [ -n "$rec_s" ]; then
        IMAP_PORT="$rec_i"
        IMAPS_PORT="$rec_s"
    else
        IMAP_PORT="${LOWCODE_IMAP_PORT:-${rec_i:-$DEFAULT_IMAP_PORT}}"
        IMAPS_PORT="${LOWCODE_IMAPS_PORT:-${rec_s:-$DEFAULT_IMAPS_PORT}}"
    fi
}

# Make sure port variable $1 (MARIADB_PORT/REDIS_PORT) names a free port before
# starting our server on it; $2 = the env var that sets it explicitly.
pick_free_port() {
    local var="$1" envvar="$2" port candidate
    port="${!var}"
    port_in_use "$port" || return 0
    if [ -n "${!envvar:-}" ]; then
        die "port $HOST:$port ($envvar) is already in use by another program; set $envvar to a free port"
    fi
    for candidate in $(seq $((port + 1)) $((port + 40))); do
        if ! port_in_use "$candidate"; then
            log "port $port is in use by another program; using $candidate instead"
            printf -v "$var" '%s' "$candidate"
            return 0
        fi
    done
    die "no free port found near $port; set $envvar"
}

# ---------------------------------------------------------------- MariaDB

mariadb_pid() { live_pid "$MARIADB_PID" "--datadir=$MARIADB_DATA"; }

# Local admin connection: unix socket + unix_socket auth as the OS user.
mariadb_local() {
    mariadb --no-defaults --socket="$MARIADB_SOCK" --user="$OS_USER" --connect-timeout=5 "$@"
}

mariadb_ping() {
    mariadb-admin --no-defaults --socket="$MARIADB_SOCK" --user="$OS_USER" \
        --connect-timeout=2 ping >/dev/null 2>&1
}

mariadb_log_tail() {
    echo "----- last lines of $MARIADB_LOG -----" >&2
    tail -n 40 "$MARIADB_LOG" >&2 2>/dev/null || true
    echo "--------------------------------------" >&2
}

sql_quote() {  # quote $1 as an SQL string literal
    local s="${1//\\/\\\\}"
    printf "'%s'" "${s//\'/\'\'}"
}

mariadb_init() {
    if [ -f "$MARIADB_DATA/.lowcode-initialised" ]; then
        return 0
    fi
    # A half-initialised datadir from an interrupted run: start afresh.
    rm -rf "$MARIADB_DATA"
    mkdir -p "$MARIADB_DATA"
    log "initialising MariaDB data directory $MARIADB_DATA"
    if ! mariadb-install-db --no-defaults \
            --datadir="$MARIADB_DATA" \
            --user="$OS_USER" \
            --auth-root-authentication-method=socket \
            --auth-root-socket-user="$OS_USER" \
            --skip-test-db \
            --skip-name-resolve \
            >>"$MARIADB_LOG" 2>&1; then
        mariadb_log_tail
        die "mariadb-install-db failed"
    fi
    touch "$MARIADB_DATA/.lowcode-initialised"
}

mariadb_ensure_user() {
    local u p mp
    u="$(sql_quote "$DB_USER")"
    p="$(sql_quote "$DB_PASSWORD")"
    mp="$(sql_quote "$MONITOR_PASSWORD")"
    mariadb_local <<SQL || { mariadb_log_tail; die "could not create MariaDB user $DB_USER"; }
CREATE USER IF NOT EXISTS $u@'127.0.0.1' IDENTIFIED BY $p;
CREATE USER IF NOT EXISTS $u@'localhost' IDENTIFIED BY $p;
ALTER USER $u@'127.0.0.1' IDENTIFIED BY $p;
ALTER USER $u@'localhost' IDENTIFIED BY $p;
GRANT ALL PRIVILEGES ON *.* TO $u@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO $u@'localhost' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS '$REPL_USER'@'127.0.0.1' IDENTIFIED BY '$REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$REPL_USER'@'127.0.0.1';
CREATE USER IF NOT EXISTS '$MONITOR_USER'@'127.0.0.1' IDENTIFIED BY $mp;
CREATE USER IF NOT EXISTS '$MONITOR_USER'@'localhost' IDENTIFIED BY $mp;
ALTER USER '$MONITOR_USER'@'127.0.0.1' IDENTIFIED BY $mp;
ALTER USER '$MONITOR_USER'@'localhost' IDENTIFIED BY $mp;
GRANT SLAVE MONITOR ON *.* TO '$MONITOR_USER'@'127.0.0.1';
GRANT SLAVE MONITOR ON *.* TO '$MONITOR_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
    # Prove that the tests' way in (TCP, password) works.
    if ! MYSQL_PWD="$DB_PASSWORD" mariadb --no-defaults --protocol=TCP --host="$HOST" \
            --port="$MARIADB_PORT" --user="$DB_USER" --connect-timeout=5 \
            -N -e 'SELECT 1' >/dev/null; then
        die "MariaDB is up but $DB_USER@$HOST:$MARIADB_PORT cannot log in"
    fi
}

# Wait up to $TIMEOUT seconds for CHECK to succeed; else show the log (TAIL) and die with MESSAGE.
await_ready() {
    local check="$1" tail="$2" message="$3" waited=0
    until "$check"; do
        if [ "$waited" -ge "$TIMEOUT" ]; then
            "$tail"
            die "$message"
        fi
        sleep 1; waited=$((waited + 1))
    done
}

mariadb_start() {
    local pid launcher dead=0 waited=0
    mkdir -p "$RUN_DIR"
    if pid="$(mariadb_pid)"; then
        # Ours is running (maybe still starting up): wait for it.
        await_ready mariadb_ping mariadb_log_tail "MariaDB (pid $pid) does not answer"
        mariadb_ensure_user
        log "MariaDB already running (pid $pid) on $HOST:$MARIADB_PORT"
        return 0
    fi
    rm -f "$MARIADB_PID" "$MARIADB_SOCK" "$MARIADB_SOCK.lock"
    pick_free_port MARIADB_PORT LOWCODE_MARIADB_PORT
    record_ports
    mariadb_init

    local user_opt=()
    [ "$(id -u)" = 0 ] && user_opt=(--user=root)
    log "starting MariaDB on $HOST:$MARIADB_PORT (data: $MARIADB_DATA)"
    # setsid: own session, so a Ctrl-C or a kill of the calling process group
    # (make, CI) does not take the server down with it. The binary log feeds the read
    # replica (replica_start); trusting function creators lets the sites' own users (no
    # SUPER) create triggers, which a binary log otherwise refuses them.
    setsid mariadbd --no-defaults \
        "${user_opt[@]}" \
        --datadir="$MARIADB_DATA" \
        --socket="$MARIADB_SOCK" \
        --pid-file="$MARIADB_PID" \
        --log-error="$MARIADB_LOG" \
        --bind-address="$HOST${EXTRA_BIND:+,$EXTRA_BIND}" \
        --port="$MARIADB_PORT" \
        "${MARIADBD_COMMON[@]}" \
        --innodb-buffer-pool-size="$BUFFER_POOL" \
        --innodb-log-file-size="$LOG_FILE_SIZE" \
        --server-id=1 \
        --log-bin=mariadb-bin \
        --binlog-format=MIXED \
        --binlog-expire-logs-seconds=86400 \
        --log-bin-trust-function-creators=1 \
        </dev/null >>"$MARIADB_LOG" 2>&1 9>&- &
    launcher=$!

    while ! mariadb_ping; do
        if ! kill -0 "$launcher" 2>/dev/null && ! mariadb_pid >/dev/null; then
            dead=$((dead + 1))
            if [ "$dead" -ge 3 ]; then
                mariadb_log_tail
                die "MariaDB exited during start-up"
            fi
        fi
        if [ "$waited" -ge "$TIMEOUT" ]; then
            mariadb_log_tail
            die "MariaDB did not accept connections within ${TIMEOUT}s"
        fi
        sleep 1; waited=$((waited + 1))
    done
    mariadb_ensure_user
    log "MariaDB up (pid $(mariadb_pid || echo '?')) on $HOST:$MARIADB_PORT, user $DB_USER"
}

mariadb_stop() {
    local pid waited=0
    if ! pid="$(mariadb_pid)"; then
        rm -f "$MARIADB_PID"
        log "MariaDB not running"
        return 0
    fi
    log "stopping MariaDB (pid $pid)"
    mariadb-admin --no-defaults --socket="$MARIADB_SOCK" --user="$OS_USER" \
        --connect-timeout=5 shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -eq "$TIMEOUT" ]; then
            log "MariaDB still running after ${TIMEOUT}s; sending SIGTERM"
            kill -TERM "$pid" 2>/dev/null || true
        elif [ "$waited" -ge $((TIMEOUT + 30)) ]; then
            log "MariaDB still running; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 1; waited=$((waited + 1))
    done
    rm -f "$MARIADB_PID"
    log "MariaDB stopped"
}

# ---------------------------------------------------------------- MariaDB read replica

replica_pid() { live_pid "$REPLICA_PID" "--datadir=$REPLICA_DATA"; }

replica_local() {
    mariadb --no-defaults --socket="$REPLICA_SOCK" --user="$OS_USER" --connect-timeout=5 "$@"
}

replica_ping() {
    mariadb-admin --no-defaults --socket="$REPLICA_SOCK" --user="$OS_USER" \
        --connect-timeout=2 ping >/dev/null 2>&1
}

replica_log_tail() {
    echo "----- last lines of $REPLICA_LOG -----" >&2
    tail -n 40 "$REPLICA_LOG" >&2 2>/dev/null || true
    echo "--------------------------------------" >&2
}

# The primary writes the binary log a replica reads (a primary started by an older
# services.sh, with --skip-log-bin, must be restarted first).
primary_logs_binlog() {
    [ "$(mariadb_local -N -e 'SELECT @@log_bin' 2>/dev/null)" = 1 ]
}

replica_start() {
    local pid launcher waited=0 fresh=0
    mkdir -p "$RUN_DIR"
    if pid="$(replica_pid)"; then
        await_ready replica_ping replica_log_tail "MariaDB replica (pid $pid) does not answer"
        log "MariaDB replica already running (pid $pid) on $HOST:$REPLICA_PORT"
        return 0
    fi
    mariadb_pid >/dev/null && mariadb_ping || die "the replica needs the primary: start mariadb first"
    primary_logs_binlog || die "the primary MariaDB on $HOST:$MARIADB_PORT runs without a binary log" \
        "(started by an older services.sh): restart it ('services.sh stop mariadb; services.sh start mariadb')"
    rm -f "$REPLICA_PID" "$REPLICA_SOCK" "$REPLICA_SOCK.lock"
    pick_free_port REPLICA_PORT LOWCODE_MARIADB_REPLICA_PORT
    record_ports
    if [ ! -f "$REPLICA_DATA/.lowcode-replicating" ] \
            || [ "$MARIADB_DATA/.lowcode-initialised" -nt "$REPLICA_DATA/.lowcode-replicating" ]; then
        # A half-made replica from an interrupted run, or one of a primary made afresh
        # since (its GTIDs mean nothing there): start afresh.
        fresh=1
        rm -rf "$REPLICA_DATA"
        mkdir -p "$REPLICA_DATA"
        log "initialising MariaDB replica data directory $REPLICA_DATA"
        mariadb-install-db --no-defaults --datadir="$REPLICA_DATA" --user="$OS_USER" \
            --auth-root-authentication-method=socket --auth-root-socket-user="$OS_USER" \
            --skip-test-db --skip-name-resolve >>"$REPLICA_LOG" 2>&1 \
            || { replica_log_tail; die "mariadb-install-db failed for the replica"; }
    fi
    local user_opt=()
    [ "$(id -u)" = 0 ] && user_opt=(--user=root)
    log "starting MariaDB replica on $HOST:$REPLICA_PORT (data: $REPLICA_DATA)"
    # read-only: only root (the tests, replication itself) may write on it.
    setsid mariadbd --no-defaults \
        "${user_opt[@]}" \
        --datadir="$REPLICA_DATA" \
        --socket="$REPLICA_SOCK" \
        --pid-file="$REPLICA_PID" \
        --log-error="$REPLICA_LOG" \
        --bind-address="$HOST" \
        --port="$REPLICA_PORT" \
        "${MARIADBD_COMMON[@]}" \
        --innodb-buffer-pool-size="$REPLICA_BUFFER_POOL" \
        --server-id=2 \
        --skip-log-bin \
        --relay-log=relay-bin \
        --read-only \
        </dev/null >>"$REPLICA_LOG" 2>&1 9>&- &
    launcher=$!
    while ! replica_ping; do
        if ! kill -0 "$launcher" 2>/dev/null && ! replica_pid >/dev/null; then
            replica_log_tail
            die "MariaDB replica exited during start-up"
        fi
        if [ "$waited" -ge "$TIMEOUT" ]; then
            replica_log_tail
            die "MariaDB replica did not accept connections within ${TIMEOUT}s"
        fi
        sleep 1; waited=$((waited + 1))
    done
    if [ "$fresh" = 1 ]; then
        # Seed it with a consistent dump of the primary (users included, so the sites'
        # database users log in on both) that also sets the GTID position to go on from.
        log "seeding the replica from a dump of the primary"
        if ! MYSQL_PWD="$DB_PASSWORD" mariadb-dump --no-defaults --protocol=TCP --host="$HOST" \
                --port="$MARIADB_PORT" --user="$DB_USER" --all-databases --single-transaction \
                --gtid --master-data=1 --routines --events --triggers --flush-privileges 2>>"$REPLICA_LOG" \
                | replica_local >>"$REPLICA_LOG" 2>&1; then
            replica_log_tail
            die "could not seed the replica from the primary"
        fi
        replica_local <<SQL || { replica_log_tail; die "could not configure replication"; }
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='$HOST', MASTER_PORT=$MARIADB_PORT, MASTER_USER='$REPL_USER',
    MASTER_PASSWORD='$REPL_PASSWORD', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
SQL
        touch "$REPLICA_DATA/.lowcode-replicating"
    else
        # The primary may listen on another port than when the replica was made.
        replica_local <<SQL || { replica_log_tail; die "could not configure replication"; }
STOP SLAVE;
CHANGE MASTER TO MASTER_HOST='$HOST', MASTER_PORT=$MARIADB_PORT;
START SLAVE;
SQL
    fi
    log "MariaDB replica up (pid $(replica_pid || echo '?')) on $HOST:$REPLICA_PORT, replicating from $HOST:$MARIADB_PORT"
}

replica_stop() {
    local pid waited=0
    if ! pid="$(replica_pid)"; then
        rm -f "$REPLICA_PID"
        log "MariaDB replica not running"
        return 0
    fi
    log "stopping MariaDB replica (pid $pid)"
    mariadb-admin --no-defaults --socket="$REPLICA_SOCK" --user="$OS_USER" \
        --connect-timeout=5 shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "$TIMEOUT" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 1; waited=$((waited + 1))
    done
    rm -f "$REPLICA_PID"
    log "MariaDB replica stopped"
}

# ---------------------------------------------------------------- Redis

redis_pid() { live_pid "$REDIS_PID" "redis-server"; }

redis_ping() {
    [ "$(redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}

redis_log_tail() {
    echo "----- last lines of $REDIS_LOG -----" >&2
    tail -n 40 "$REDIS_LOG" >&2 2>/dev/null || true
    echo "------------------------------------" >&2
}

redis_start() {
    local pid waited=0
    mkdir -p "$RUN_DIR" "$REDIS_DIR"
    if pid="$(redis_pid)"; then
        await_ready redis_ping redis_log_tail "Redis (pid $pid) does not answer"
        log "Redis already running (pid $pid) on $HOST:$REDIS_PORT"
        return 0
    fi
    rm -f "$REDIS_PID"
    pick_free_port REDIS_PORT LOWCODE_REDIS_PORT
    record_ports
    log "starting Redis on $HOST:$REDIS_PORT"
    if ! redis-server \
            --bind "$HOST" ${EXTRA_BIND:+"$EXTRA_BIND"} \
            --port "$REDIS_PORT" \
            --protected-mode "$([ -n "$EXTRA_BIND" ] && echo no || echo yes)" \
            --daemonize yes \
            --dir "$REDIS_DIR" \
            --save '' \
            --appendonly no \
            --pidfile "$REDIS_PID" \
            --logfile "$REDIS_LOG" \
            </dev/null >>"$REDIS_LOG" 2>&1 9>&-; then
        redis_log_tail
        die "redis-server failed to start"
    fi
    await_ready redis_ping redis_log_tail "Redis did not answer PING within ${TIMEOUT}s"
    log "Redis up (pid $(redis_pid || echo '?')) on $HOST:$REDIS_PORT"
}

redis_stop() {
    local pid waited=0
    if ! pid="$(redis_pid)"; then
        rm -f "$REDIS_PID"
        log "Redis not running"
        return 0
    fi
    log "stopping Redis (pid $pid)"
    redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -eq 15 ]; then
            kill -TERM "$pid" 2>/dev/null || true
        elif [ "$waited" -ge 30 ]; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 1; waited=$((waited + 1))
    done
    rm -f "$REDIS_PID"
    log "Redis stopped"
}

# ---------------------------------------------------------------- Dovecot (IMAP)

dovecot_pid() { live_pid "$DOVECOT_DIR/run/master.pid" "$DOVECOT_CONF"; }

dovecot_ping() {  # the server greets on the IMAP port
    local greeting
    greeting="$(exec 3<>"/dev/tcp/$HOST/$IMAP_PORT" && timeout 2 head -c 5 <&3)" 2>/dev/null || return 1
    [ "$greeting" = "* OK " ]
}

dovecot_log_tail() {
    echo "----- last lines of $DOVECOT_LOG -----" >&2
    tail -n 40 "$DOVECOT_LOG" >&2 2>/dev/null || true
    echo "--------------------------------------" >&2
}

# A private configuration: loopback only, a passwd-file with the test user, maildirs
# under .run/dovecot/mail. Rewritten on every start (the port may have changed).
dovecot_config() {
    local mail_user login_user internal_user uid gid
    mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" "$DOVECOT_DIR/mail"
    if [ "$(id -u)" = 0 ]; then
        # Dovecot never touches mail as root: the maildirs belong to its own user.
        mail_user=dovecot; login_user=dovenull; internal_user=dovecot
    else
        mail_user="$OS_USER"; login_user="$OS_USER"; internal_user="$OS_USER"
    fi
    uid="$(id -u "$mail_user")"; gid="$(id -g "$mail_user")"
    [ "$(id -u)" = 0 ] && chown "$uid:$gid" "$DOVECOT_DIR/mail"
    printf '%s:{PLAIN}%s:%s:%s::%s\n' "$IMAP_TEST_USER" "$IMAP_TEST_PASSWORD" "$uid" "$gid" \
        "$DOVECOT_DIR/mail/$IMAP_TEST_USER" >"$DOVECOT_DIR/users"
    chmod 640 "$DOVECOT_DIR/users"
    [ "$(id -u)" = 0 ] && chgrp "$(id -g "$internal_user")" "$DOVECOT_DIR/users"
    # A self-signed certificate for 127.0.0.1: the TLS tests trust exactly this one.
    if [ ! -s "$DOVECOT_DIR/cert.pem" ] || [ ! -s "$DOVECOT_DIR/key.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$DOVECOT_DIR/key.pem" -out "$DOVECOT_DIR/cert.pem" >>"$DOVECOT_LOG" 2>&1 \
            || die "openssl could not make the IMAP test certificate"
        chmod 600 "$DOVECOT_DIR/key.pem"
    fi
    cat >"$DOVECOT_CONF" <<CONF
# Generated by scripts/services.sh: the project's private test IMAP server.
base_dir = $DOVECOT_DIR/run
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_LOG
protocols = imap
listen = $HOST
ssl = yes
ssl_cert = <$DOVECOT_DIR/cert.pem
ssl_key = <$DOVECOT_DIR/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = $login_user
default_internal_user = $internal_user
first_valid_uid = $uid
last_valid_uid = $uid
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT_DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $DOVECOT_DIR/users
}
service imap-login {
  inet_listener imap {
    address = $HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = $HOST
    port = $IMAPS_PORT
  }
}
CONF
}

dovecot_start() {
    local pid waited=0
    mkdir -p "$RUN_DIR"
    if pid="$(dovecot_pid)"; then
        await_ready dovecot_ping dovecot_log_tail "Dovecot (pid $pid) does not answer"
        log "Dovecot already running (pid $pid) on $HOST:$IMAP_PORT"
        return 0
    fi
    pick_free_port IMAP_PORT LOWCODE_IMAP_PORT
    pick_free_port IMAPS_PORT LOWCODE_IMAPS_PORT
    record_ports
    dovecot_config
    log "starting Dovecot (IMAP) on $HOST:$IMAP_PORT"
    if ! setsid dovecot -c "$DOVECOT_CONF" </dev/null >>"$DOVECOT_LOG" 2>&1 9>&-; then
        dovecot_log_tail
        die "dovecot failed to start"
    fi
    await_ready dovecot_ping dovecot_log_tail "Dovecot did not greet on $HOST:$IMAP_PORT within ${TIMEOUT}s"
    log "Dovecot up (pid $(dovecot_pid || echo '?')) on $HOST:$IMAP_PORT (TLS $IMAPS_PORT), user $IMAP_TEST_USER"
}

dovecot_stop() {
    local pid waited=0
    if ! pid="$(dovecot_pid)"; then
        log "Dovecot not running"
        return 0
    fi
    log "stopping Dovecot (pid $pid)"
    doveadm -c "$DOVECOT_CONF" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge 30 ]; then
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 1; waited=$((waited + 1))
    done
    log "Dovecot stopped"
}

# ---------------------------------------------------------------- commands

need_tools() {
    local missing=() t
    for t in mariadbd mariadb-install-db mariadb mariadb-admin redis-server redis-cli dovecot doveadm openssl setsid flock; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    if [ "${#missing[@]}" -ne 0 ]; then
        die "not found: ${missing[*]} (run 'make system-deps' to install mariadb-server, mariadb-client, redis-server, dovecot-imapd)"
    fi
}

with_lock() {
    mkdir -p "$RUN_DIR"
    # fd 9 holds the lock; the servers are started with it closed (9>&-) so
    # they do not keep holding it.
    exec 9>"$RUN_DIR/services.lock"
    flock -w "$((TIMEOUT * 3))" 9 || die "could not lock $RUN_DIR/services.lock (another start/stop running?)"
}

cmd_env() {
    local q
    emit() { printf 'export %s=%q\n' "$1" "$2"; }
    emit LOWCODE_MARIADB_HOST "$HOST"
    emit LOWCODE_MARIADB_PORT "$MARIADB_PORT"
    emit LOWCODE_MARIADB_ROOT_USER "$DB_USER"
    emit LOWCODE_MARIADB_ROOT_PASSWORD "$DB_PASSWORD"
    emit LOWCODE_MARIADB_SOCKET "$MARIADB_SOCK"
    emit LOWCODE_TEST_MARIADB "$HOST:$MARIADB_PORT"
    # The read replica (started or not: its tests fail rather than skip when it is down),
    # and the run directory its tests stop and start it in.
    emit LOWCODE_TEST_MARIADB_REPLICA_PORT "$REPLICA_PORT"
    emit LOWCODE_TEST_MARIADB_REPLICA_RUN_DIR "$RUN_DIR"
    # The account that reads replicas' lag (sites: replica_monitor_user / replica_monitor_password).
    emit LOWCODE_MARIADB_MONITOR_USER "$MONITOR_USER"
    emit LOWCODE_MARIADB_MONITOR_PASSWORD "$MONITOR_PASSWORD"
    emit LOWCODE_REDIS_HOST "$HOST"
    emit LOWCODE_REDIS_PORT "$REDIS_PORT"
    emit LOWCODE_REDIS_URL "redis://$HOST:$REDIS_PORT/0"
    emit LOWCODE_TEST_IMAP_HOST "$HOST"
    emit LOWCODE_TEST_IMAP_PORT "$IMAP_PORT"
    emit LOWCODE_TEST_IMAPS_PORT "$IMAPS_PORT"
    emit LOWCODE_TEST_IMAP_CA "$DOVECOT_DIR/cert.pem"
    emit LOWCODE_TEST_IMAP_USER "$IMAP_TEST_USER"
    emit LOWCODE_TEST_IMAP_PASSWORD "$IMAP_TEST_PASSWORD"
    q="$(command -v chromium 2>/dev/null || true)"
    if [ -n "$q" ]; then
        emit LOWCODE_CHROMIUM "$q"
    fi
}

cmd_status() {
    local pid ok=0
    if pid="$(mariadb_pid)" && mariadb_ping; then
        echo "mariadb: running (pid $pid) on $HOST:$MARIADB_PORT, data $MARIADB_DATA"
    elif pid="$(mariadb_pid)"; then
        echo "mariadb: process $pid alive but not answering"; ok=1
    else
        echo "mariadb: stopped"; ok=1
    fi
    if pid="$(replica_pid)" && replica_ping; then
        echo "replica: running (pid $pid) on $HOST:$REPLICA_PORT, data $REPLICA_DATA"
    elif pid="$(replica_pid)"; then
        echo "replica: process $pid alive but not answering"; ok=1
    else
        echo "replica: stopped"; ok=1
    fi
    if pid="$(redis_pid)" && redis_ping; then
        echo "redis:   running (pid $pid) on $HOST:$REDIS_PORT"
    elif pid="$(redis_pid)"; then
        echo "redis:   process $pid alive but not answering"; ok=1
    else
        echo "redis:   stopped"; ok=1
    fi
    if pid="$(dovecot_pid)" && dovecot_ping; then
        echo "dovecot: running (pid $pid) on $HOST:$IMAP_PORT (TLS $IMAPS_PORT)"
    elif pid="$(dovecot_pid)"; then
        echo "dovecot: process $pid alive but not answering"; ok=1
    else
        echo "dovecot: stopped"; ok=1
    fi
    return "$ok"
}

# The services named in "$@" (all when none), each checked against the known ones.
services_of() {
    local s
    [ "$#" -eq 0 ] && set -- mariadb replica redis dovecot
    for s in "$@"; do
        case "$s" in
            mariadb|replica|redis|dovecot) echo "$s" ;;
            *) die "unknown service '$s' (mariadb, replica, redis, dovecot)" ;;
        esac
    done
}

main() {
    local cmd="${1:-}" s
    shift || true
    case "$cmd" in
        start)
            need_tools
            with_lock
            resolve_ports
            for s in $(services_of "$@"); do
                # A plain `start` leaves the replica out while the primary (started by an older
                # services.sh) writes no binary log; `start replica` says how to fix that.
                if [ "$s" = replica ] && [ "$#" -eq 0 ] && ! primary_logs_binlog; then
                    log "replica not started: the primary runs without a binary log (restart mariadb)"
                    continue
                fi
                "${s}_start"
            done
            ;;
        stop)
            with_lock
            resolve_ports
            for s in $(services_of "$@" | tac); do "${s}_stop"; done
            ;;
        restart)
            "$0" stop
            exec "$0" start
            ;;
        status)
            resolve_ports
            cmd_status
            ;;
        env)
            resolve_ports
            cmd_env
            ;;
        *)
            echo "usage: $0 start|stop [mariadb|replica|redis|dovecot...] | restart|status|env" >&2
            exit 2
            ;;
    esac
}

main "$@"
