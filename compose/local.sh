#!/usr/bin/env bash
# compose/local.sh — run Switchboard locally without Docker or an init system.
#
# Usage:
#   compose/local.sh up [--no-demo]      build the package, start PostgreSQL, RabbitMQ and all services;
#                                        load demo data into an empty database unless --no-demo
#   compose/local.sh down                stop the services, RabbitMQ and PostgreSQL started from this checkout
#   compose/local.sh status              one line per server / service
#   compose/local.sh logs SERVICE        tail -f a log (contacts, sales, ..., gateway, postgres, rabbitmq)
#   compose/local.sh test [ARGS...]      up + swift test (ARGS go to `swift test`), then stop what it started
#   compose/local.sh infra               (internal) only install/start PostgreSQL and RabbitMQ
#
# Environment variables (all optional; defaults in brackets):
#   SWITCHBOARD_PG_HOST              [127.0.0.1]   address PostgreSQL listens on / services connect to
#   SWITCHBOARD_PG_PORT              [5433]        PostgreSQL port
#   SWITCHBOARD_AMQP_HOST            [127.0.0.1]   address RabbitMQ's AMQP listener binds / services connect to
#   SWITCHBOARD_AMQP_PORT            [5673]        AMQP port
#   SWITCHBOARD_AMQP_VHOST           [switchboard] RabbitMQ virtual host
#   SWITCHBOARD_RABBITMQ_NODE        [switchboard@localhost] Erlang node name of the local RabbitMQ
#   SWITCHBOARD_RABBITMQ_DIST_PORT   [25673]       Erlang distribution port of that node (loopback only)
#   SWITCHBOARD_RABBITMQ_MANAGEMENT_PORT [15673]   its management HTTP API (loopback only; `switchboard erp` uses it)
#   SWITCHBOARD_<NAME>_PORT          [the catalogue's] HTTP port of a service (GATEWAY 8080, CONTACTS 8081, …;
#                                                  the services and their ports are Shared/Catalogue/services.tsv)
#   SWITCHBOARD_ADMIN_KEY            [generated once, kept in .local/admin-key] admin API key
#   SWITCHBOARD_BUILD_CONFIGURATION  [debug]       swift build configuration (debug or release)
#   SWITCHBOARD_PG_SHARED_BUFFERS    [a quarter of RAM, 128MB to 4GB] PostgreSQL shared_buffers
#
# State lives in $REPO/.local (gitignored):
#   pg/              PostgreSQL data directory (owned by the postgres user)
#   pgsock/          PostgreSQL unix socket directory
#   rabbitmq/        RabbitMQ home (Erlang cookie), mnesia/, log/, config files
#   logs/<name>.log  stdout+stderr of every service, postgres.log, rabbitmq.log (RabbitMQ's console)
#   run/<name>.pid   pid files (services, rabbitmq)
#   bin/rabbitmqctl  rabbitmqctl wrapper bound to the local node (exported to tests as SWITCHBOARD_RABBITMQCTL)
#   secrets.env      generated once (chmod 600); KEY=value lines, one password per role, used for both
#                    the PostgreSQL role and the RabbitMQ user of the same name:
#                      SWITCHBOARD_<NAME>_PASSWORD for each service of the catalogue,
#                      SWITCHBOARD_ADMIN_PASSWORD (role switchboard_admin)
#                    and SWITCHBOARD_GATEWAY_TOKEN, the secret the gateway sends on every call to a service
#   admin-key        generated admin API key (only used when SWITCHBOARD_ADMIN_KEY is unset)
#   bin/pg_ctl       pg_ctl for the local cluster as its owner (exported to tests as SWITCHBOARD_PGCTL)
set -euo pipefail

# ---------------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------------
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
LOCAL=$REPO/.local

: "${SWITCHBOARD_PG_HOST:=127.0.0.1}"
: "${SWITCHBOARD_PG_PORT:=5433}"
: "${SWITCHBOARD_AMQP_HOST:=127.0.0.1}"
: "${SWITCHBOARD_AMQP_PORT:=5673}"
: "${SWITCHBOARD_AMQP_VHOST:=switchboard}"
: "${SWITCHBOARD_RABBITMQ_NODE:=switchboard@localhost}"
: "${SWITCHBOARD_RABBITMQ_DIST_PORT:=25673}"
: "${SWITCHBOARD_RABBITMQ_MANAGEMENT_PORT:=15673}"
: "${SWITCHBOARD_BUILD_CONFIGURATION:=debug}"
CONFIG=$SWITCHBOARD_BUILD_CONFIGURATION
PG_DATABASE=switchboard
HTTP_HOST=127.0.0.1

PG_BIN=/usr/lib/postgresql/15/bin
PG_DATA=$LOCAL/pg
PG_SOCK=$LOCAL/pgsock
# Unix socket paths are limited to ~107 bytes; fall back to /tmp for deeply nested checkouts.
if [ $((${#PG_SOCK} + 20)) -gt 100 ]; then
    PG_SOCK=/tmp/switchboard-pgsock-$(printf '%s' "$LOCAL" | cksum | cut -d' ' -f1)
fi
PG_LOG=$LOCAL/logs/postgres.log

RMQ_SBIN=/usr/lib/rabbitmq/bin  # the real scripts; /usr/sbin/rabbitmq-* would `su rabbitmq`
RMQ_HOME=$LOCAL/rabbitmq
RMQ_PIDFILE=$LOCAL/run/rabbitmq.pid
RMQ_CONSOLE_LOG=$LOCAL/logs/rabbitmq.log
RMQCTL=$LOCAL/bin/rabbitmqctl

# The services, from the catalogue, in its order (the gateway last): SERVICES holds the
# executables, ROLES the names (schema, database role, broker user), PORTS the HTTP ports
# (SWITCHBOARD_<NAME>_PORT, else the catalogue's).
CATALOGUE=$REPO/Shared/Catalogue/services.tsv
SERVICES=()
ROLES=()
declare -A PORTS=() ROLE_OF=()
while IFS=$'\t' read -r name executable _folder port _role; do
    case "$name" in '' | '#'*) continue ;; esac
    SERVICES+=("$executable")
    ROLES+=("$name")
    ROLE_OF[$executable]=$name
    variable=SWITCHBOARD_$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')_PORT
    PORTS[$name]=${!variable:-$port}
    export "$variable=${PORTS[$name]}"
done <"$CATALOGUE"
unset name executable _folder port _role variable
SWITCHBOARD_GATEWAY_PORT=${PORTS[gateway]}
ADMIN_ROLE=switchboard_admin
PACKAGES=(postgresql-15 rabbitmq-server librabbitmq-dev amqp-tools curl)
# What `test` needs beside them: a virtual environment for the outside clients it runs (schemathesis).
TEST_PACKAGES=(python3-venv chromium chromium-driver)
SCHEMATHESIS_VERSION=4.32.5
SELENIUM_VERSION=4.51.0
PIKA_VERSION=1.3.2

HEALTH_TIMEOUT=120
STOP_TIMEOUT=20  # a service ends within 15 s of SIGTERM (README); this leaves it room before SIGKILL

# ---------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------
say() { printf '==> %s\n' "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() { printf '==> ERROR: %s\n' "$*" >&2; exit 1; }

require_root() {
    [ "$(id -u)" = 0 ] || die "this command must run as root (it manages PostgreSQL/RabbitMQ as system users)"
}

role_of() { printf '%s' "${ROLE_OF[$1]:-$1}"; }              # executable (erp-bridge) -> name (erp_bridge)
upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

port_of() {  # service (executable or name) -> HTTP port
    local role
    role=$(role_of "$1")
    [ -n "${PORTS[$role]:-}" ] || return 1
    echo "${PORTS[$role]}"
}

secret_key_of() {  # role -> key in secrets.env
    if [ "$1" = "$ADMIN_ROLE" ]; then echo SWITCHBOARD_ADMIN_PASSWORD; else echo "SWITCHBOARD_$(upper "$1")_PASSWORD"; fi
}

random_hex() { od -An -N"${1:-24}" -tx1 /dev/urandom | tr -d ' \n'; }

# True if process $1 exists and is not a zombie (without an init system nobody may reap our orphans).
pid_alive() {
    local stat state
    [ -n "${1:-}" ] && read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
    state=${stat##*) }
    state=${state%% *}
    [ "$state" != Z ] && [ "$state" != X ]
}

read_pidfile() { [ -s "$1" ] && head -n1 "$1" | tr -dc '0-9' || true; }

# Seconds since the epoch at which process $1 started (no dependency on procps).
proc_start_epoch() {
    local line rest uptime ticks
    read -r line <"/proc/$1/stat" || return 1
    rest=${line##*) }
    # shellcheck disable=SC2086
    set -- $rest
    read -r uptime _ </proc/uptime
    ticks=$(getconf CLK_TCK)
    awk -v now="$(date +%s)" -v up="$uptime" -v st="${20}" -v hz="$ticks" 'BEGIN { printf "%d\n", now - up + st / hz }'
}

# Close every file descriptor above 2 in the current (sub)shell, so daemons started from it
# do not keep a CI pipe open.
close_extra_fds() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        [[ $fd =~ ^[0-9]+$ ]] && [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
    done
}

# Make sure user $1 can traverse every directory from / down to $2.
ensure_traversable() {
    local user=$1 dir=$2
    while [ "$dir" != / ] && [ -n "$dir" ]; do
        if ! runuser -u "$user" -- test -x "$dir" 2>/dev/null; then
            say "chmod o+x $dir (so $user can reach $LOCAL)"
            chmod o+x "$dir"
        fi
        dir=$(dirname -- "$dir")
    done
}

# ---------------------------------------------------------------------------------------------------
# Packages, directories, secrets
# ---------------------------------------------------------------------------------------------------
ensure_packages() {
    local missing=() p status
    for p in "$@"; do
        status=$(dpkg -s "$p" 2>/dev/null || true)
        grep -q '^Status: install ok installed' <<<"$status" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing missing packages: ${missing[*]}"
    # No init system: keep the packages' maintainer scripts from trying to start system-wide services.
    local policy_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_created=1
    fi
    local rc=0
    { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } </dev/null || rc=$?
    [ "$policy_created" = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ "$rc" = 0 ] || die "apt-get failed (exit $rc)"
}

ensure_dirs() {
    mkdir -p "$LOCAL" "$LOCAL/logs" "$LOCAL/run" "$LOCAL/bin" "$RMQ_HOME/mnesia" "$RMQ_HOME/log"
    chmod 755 "$LOCAL" "$LOCAL/logs"
    chmod 700 "$RMQ_HOME"
}

ensure_secrets() {
    local f=$LOCAL/secrets.env role key
    if [ ! -f "$f" ]; then
        say "generating $f"
        (umask 077 && printf '# Generated by compose/local.sh: one password per PostgreSQL role / RabbitMQ user.\n' >"$f")
    fi
    for role in "${ROLES[@]}" "$ADMIN_ROLE"; do
        key=$(secret_key_of "$role")
        grep -q "^$key=" "$f" || printf '%s=%s\n' "$key" "$(random_hex 24)" >>"$f"
    done
    grep -q "^SWITCHBOARD_GATEWAY_TOKEN=" "$f" || printf 'SWITCHBOARD_GATEWAY_TOKEN=%s\n' "$(random_hex 32)" >>"$f"
    chmod 600 "$f"
}

gateway_token() { sed -n 's/^SWITCHBOARD_GATEWAY_TOKEN=//p' "$LOCAL/secrets.env" | tail -n1; }

secret() {  # role -> password
    local key
    key=$(secret_key_of "$1")
    sed -n "s/^$key=//p" "$LOCAL/secrets.env" | tail -n1
}

ensure_admin_key() {
    if [ -n "${SWITCHBOARD_ADMIN_KEY:-}" ]; then return 0; fi
    if [ ! -s "$LOCAL/admin-key" ]; then
        (umask 077 && random_hex 32 >"$LOCAL/admin-key")
    fi
    chmod 600 "$LOCAL/admin-key"
    SWITCHBOARD_ADMIN_KEY=$(tr -d ' \n' <"$LOCAL/admin-key")
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

pg_pid() { [ -f "$PG_DATA/postmaster.pid" ] && head -n1 "$PG_DATA/postmaster.pid" | tr -dc '0-9' || true; }

pg_running() {
    [ -f "$PG_DATA/PG_VERSION" ] || return 1
    if [ "$(id -u)" = 0 ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
    else
        pid_alive "$(pg_pid)"  # non-root (status only): best effort
    fi
}

pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

psql_super() {  # psql as the postgres superuser over the unix socket of the running server (peer)
    local port sock
    port=$(pg_running_port)
    sock=$(sed -n 5p "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "${sock:-$PG_SOCK}" -p "${port:-$SWITCHBOARD_PG_PORT}" -U postgres "$@"
}

# The server's options, for every start (`up`'s, and a test's through bin/pg_ctl, which would
# otherwise start it on PostgreSQL's default port and socket).
pg_server_options() {
    # PostgreSQL's default of 128MB keeps a million contacts and their indexes out of its cache,
    # and a search then reads most pages from the kernel.
    local memory_kb shared_buffers
    memory_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    shared_buffers=${SWITCHBOARD_PG_SHARED_BUFFERS:-$(( memory_kb / 4 / 1024 < 128 ? 128 : (memory_kb / 4 / 1024 > 4096 ? 4096 : memory_kb / 4 / 1024) ))MB}
    # Commit timestamps let `bench messaging` time an event from the commit that wrote it to the
    # commit that applied it, rather than from the insert, before the writer's own commit wait.
    # Checkpoints: an event writes about 2.7 kB of WAL from its outbox row to its inbox row, so at
    # 1,000 events/s the default max_wal_size of 1GB starts one about every three minutes (back-to-
    # back `bench messaging` runs started one every two and a half). After each start, every page's
    # first change writes the whole page to the WAL: a 20-second latency run that began 10 s after
    # one had a p99 of 86 ms, the four runs around it 29-54 ms. With 4GB and 15 minutes they come
    # about four times less often; each one is no cheaper.
    printf '%s' "-p $SWITCHBOARD_PG_PORT -k '$PG_SOCK' -c listen_addresses='$SWITCHBOARD_PG_HOST' -c max_connections=300 -c shared_buffers=$shared_buffers -c track_commit_timestamp=on -c max_wal_size=4GB -c checkpoint_timeout=15min"
}

pg_start() {
    ensure_traversable postgres "$LOCAL"
    mkdir -p "$PG_SOCK"
    chown postgres:postgres "$PG_SOCK"
    chmod 700 "$PG_SOCK"  # only the cluster's owner reaches its socket (pg_hba says the same)
    touch "$PG_LOG"
    chown postgres:postgres "$PG_LOG"
    if [ ! -f "$PG_DATA/PG_VERSION" ]; then
        if [ -d "$PG_DATA" ] && [ -n "$(ls -A "$PG_DATA")" ]; then
            die "$PG_DATA exists, is not empty and is not a PostgreSQL data directory"
        fi
        say "initialising PostgreSQL data directory $PG_DATA"
        mkdir -p "$PG_DATA"
        chown postgres:postgres "$PG_DATA"
        chmod 700 "$PG_DATA"
        as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
            { tail -n 40 "$PG_LOG" >&2; die "initdb failed"; }
    fi
    pg_write_hba
    write_pgctl_wrapper
    if pg_running; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" reload >/dev/null  # a rewritten pg_hba.conf counts now
        local port
        port=$(pg_running_port)
        say "PostgreSQL already running (pid $(pg_pid), port $port)"
        [ "$port" = "$SWITCHBOARD_PG_PORT" ] ||
            warn "it listens on port $port, not SWITCHBOARD_PG_PORT=$SWITCHBOARD_PG_PORT; run 'down' first to change ports"
        return 0
    fi
    say "starting PostgreSQL on $SWITCHBOARD_PG_HOST:$SWITCHBOARD_PG_PORT ($(pg_server_options | grep -o 'shared_buffers=[^ ]*'))"
    if ! (
        close_extra_fds
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 60 -l "$PG_LOG" -o "$(pg_server_options)" start </dev/null >/dev/null
    ); then
        tail -n 40 "$PG_LOG" >&2
        die "PostgreSQL did not start (log: $PG_LOG)"
    fi
    PG_STARTED_HERE=1
}

# The socket admits only the cluster's OS owner, as the superuser it is; every other login is over
# TCP with its password (a cluster made before this rule trusted every local OS user).
pg_write_hba() {
    local hba=$PG_DATA/pg_hba.conf
    local want="# Generated by compose/local.sh: the socket for the postgres OS user only; passwords over TCP.
local   all   postgres                  peer
host    all   all        127.0.0.1/32   scram-sha-256
host    all   all        ::1/128        scram-sha-256"
    if [ "$(cat "$hba" 2>/dev/null)" != "$want" ]; then
        printf '%s\n' "$want" >"$hba"
        chown postgres:postgres "$hba"
        chmod 600 "$hba"
    fi
}

# pg_ctl for tests that restart the cluster (SWITCHBOARD_PGCTL): as its owner, logging where `up`
# logs, with no descriptor of the caller's left open in the server it starts.
write_pgctl_wrapper() {
    cat >"$LOCAL/bin/pg_ctl" <<WRAPPER
#!/usr/bin/env bash
# Generated by compose/local.sh: pg_ctl for the local Switchboard cluster.
for fd in /proc/\$\$/fd/*; do fd=\${fd##*/}; [ "\$fd" -gt 2 ] 2>/dev/null && eval "exec \$fd>&-"; done
cd /
for argument in "\$@"; do
    case "\$argument" in start | restart) set -- "\$@" -l $(printf '%q' "$PG_LOG") -o $(printf '%q' "$(pg_server_options)"); break ;; esac
done
exec runuser -u postgres -- $(printf '%q' "$PG_BIN/pg_ctl") -D $(printf '%q' "$PG_DATA") "\$@" </dev/null
WRAPPER
    chmod 700 "$LOCAL/bin/pg_ctl"
}

pg_provision() {
    say "provisioning database $PG_DATABASE, roles and schemas"
    local sql role pw
    sql="SET client_min_messages = warning;"$'\n'
    for role in "${ROLES[@]}" "$ADMIN_ROLE"; do
        pw=$(secret "$role")
        [[ $pw =~ ^[0-9a-f]+$ ]] || die "password for $role in secrets.env must be hex"
        sql+="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '$role') THEN CREATE ROLE $role LOGIN; END IF;
END \$\$;"$'\n'
        if [ "$role" = "$ADMIN_ROLE" ]; then
            sql+="ALTER ROLE $role WITH LOGIN SUPERUSER PASSWORD '$pw';"$'\n'
        else
            sql+="ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '$pw';"$'\n'
        fi
    done
    sql+="SELECT 'CREATE DATABASE $PG_DATABASE' WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '$PG_DATABASE')\\gexec"$'\n'
    sql+="\\connect $PG_DATABASE"$'\n'
    sql+="SET client_min_messages = warning;"$'\n'
    sql+="REVOKE ALL ON DATABASE $PG_DATABASE FROM PUBLIC;"$'\n'
    sql+="REVOKE CREATE ON SCHEMA public FROM PUBLIC;"$'\n'
    sql+="CREATE EXTENSION IF NOT EXISTS pg_trgm;"$'\n'
    for role in "${ROLES[@]}"; do
        sql+="GRANT CONNECT ON DATABASE $PG_DATABASE TO $role;"$'\n'
        sql+="CREATE SCHEMA IF NOT EXISTS $role AUTHORIZATION $role;"$'\n'
        sql+="ALTER SCHEMA $role OWNER TO $role;"$'\n'
    done
    sql+="GRANT CONNECT ON DATABASE $PG_DATABASE TO $ADMIN_ROLE;"$'\n'
    printf '%s' "$sql" | psql_super -d postgres -f - >/dev/null || die "PostgreSQL provisioning failed"
}

pg_stop() {
    pg_running || { say "PostgreSQL (local) not running"; return 0; }
    say "stopping PostgreSQL (pid $(pg_pid))"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop </dev/null >/dev/null ||
        warn "pg_ctl stop failed; see $PG_LOG"
}

# ---------------------------------------------------------------------------------------------------
# RabbitMQ
# ---------------------------------------------------------------------------------------------------
# Everything that makes rabbitmq-server / rabbitmqctl use *our* node, files and Erlang cookie.
rmq_env() {
    export HOME=$RMQ_HOME                                  # $HOME/.erlang.cookie is shared by server and CLI
    export ERL_EPMD_ADDRESS=127.0.0.1                      # epmd on loopback only
    export RABBITMQ_NODENAME=$SWITCHBOARD_RABBITMQ_NODE
    export RABBITMQ_NODE_IP_ADDRESS=$SWITCHBOARD_AMQP_HOST
    export RABBITMQ_NODE_PORT=$SWITCHBOARD_AMQP_PORT
    export RABBITMQ_DIST_PORT=$SWITCHBOARD_RABBITMQ_DIST_PORT
    export RABBITMQ_MNESIA_BASE=$RMQ_HOME/mnesia
    export RABBITMQ_LOG_BASE=$RMQ_HOME/log
    export RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_HOME/enabled_plugins
    export RABBITMQ_PID_FILE=$RMQ_PIDFILE
    export RABBITMQ_CONF_ENV_FILE=$RMQ_HOME/rabbitmq-env.conf  # ignore /etc/rabbitmq/rabbitmq-env.conf
    export RABBITMQ_CONFIG_FILE=$RMQ_HOME/rabbitmq.conf         # ignore /etc/rabbitmq/rabbitmq.conf
    export RABBITMQ_ADVANCED_CONFIG_FILE=$RMQ_HOME/advanced.config
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

rmqctl() { (rmq_env && "$RMQ_SBIN/rabbitmqctl" -q -n "$SWITCHBOARD_RABBITMQ_NODE" "$@"); }

rmq_pid() {
    local pid
    pid=$(read_pidfile "$RMQ_PIDFILE")
    # Only a live beam process whose -home is our RabbitMQ dir counts (guards against pid reuse).
    if pid_alive "$pid" && grep -qaF -- "$RMQ_HOME" "/proc/$pid/cmdline" 2>/dev/null; then
        echo "$pid"
    fi
}

rmq_running() { [ -n "$(rmq_pid)" ]; }

rmq_write_files() {
    if [ ! -s "$RMQ_HOME/.erlang.cookie" ]; then
        (umask 077 && random_hex 20 | tr 'a-f' 'A-F' >"$RMQ_HOME/.erlang.cookie")
    fi
    chmod 400 "$RMQ_HOME/.erlang.cookie"
    # The management API: `switchboard erp add-source` gives each ERP its own user and queue with it.
    printf '[rabbitmq_management].\n' >"$RMQ_HOME/enabled_plugins"
    : >"$RMQ_HOME/rabbitmq-env.conf"
    cat >"$RMQ_HOME/rabbitmq.conf" <<'EOF'
# Generated by compose/local.sh (listener address/port come from the environment).
log.console = true
log.console.level = warning
log.file.level = info
# The default guest user is deleted after startup; never allow it over the network anyway.
loopback_users.guest = true
EOF
    printf 'management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$SWITCHBOARD_RABBITMQ_MANAGEMENT_PORT" >>"$RMQ_HOME/rabbitmq.conf"
    # Wrapper for tests and humans: rabbitmqctl bound to the local node, cookie and config.
    cat >"$RMQCTL" <<EOF
#!/usr/bin/env bash
# Generated by compose/local.sh: rabbitmqctl for the local Switchboard RabbitMQ node.
export HOME=$(printf '%q' "$RMQ_HOME")
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_NODENAME=$(printf '%q' "$SWITCHBOARD_RABBITMQ_NODE")
export RABBITMQ_MNESIA_BASE=$(printf '%q' "$RMQ_HOME/mnesia")
export RABBITMQ_LOG_BASE=$(printf '%q' "$RMQ_HOME/log")
export RABBITMQ_ENABLED_PLUGINS_FILE=$(printf '%q' "$RMQ_HOME/enabled_plugins")
export RABBITMQ_PID_FILE=$(printf '%q' "$RMQ_PIDFILE")
export RABBITMQ_CONF_ENV_FILE=$(printf '%q' "$RMQ_HOME/rabbitmq-env.conf")
export RABBITMQ_CONFIG_FILE=$(printf '%q' "$RMQ_HOME/rabbitmq.conf")
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
exec $RMQ_SBIN/rabbitmqctl -n $(printf '%q' "$SWITCHBOARD_RABBITMQ_NODE") "\$@"
EOF
    chmod 755 "$RMQCTL"
}

epmd_ensure() {
    if ! epmd -names >/dev/null 2>&1; then
        ( close_extra_fds; ERL_EPMD_ADDRESS=127.0.0.1 setsid epmd -daemon </dev/null >/dev/null 2>&1 ) || true
        touch "$LOCAL/run/epmd.started"
    fi
}

epmd_maybe_stop() {
    [ -f "$LOCAL/run/epmd.started" ] || return 0
    # Only if we started it and no Erlang node is registered any more.
    if epmd -names 2>/dev/null | grep -q '^name '; then return 0; fi
    epmd -kill >/dev/null 2>&1 || true
    rm -f "$LOCAL/run/epmd.started"
}

rmq_start() {
    rmq_write_files
    if rmq_running; then
        say "RabbitMQ already running (pid $(rmq_pid), node $SWITCHBOARD_RABBITMQ_NODE)"
        # A test may have left the rabbit application stopped (stop_app) inside the running VM.
        if [ "$(rmqctl eval 'rabbit:is_running().' 2>/dev/null || true)" = false ]; then
            say "RabbitMQ application is stopped; rabbitmqctl start_app"
            rmqctl start_app >/dev/null || die "rabbitmqctl start_app failed"
        fi
    else
        epmd_ensure
        # A node with our name that we did not start (e.g. pid file lost) would make startup fail.
        if (rmq_env && "$RMQ_SBIN/rabbitmq-diagnostics" -q -n "$SWITCHBOARD_RABBITMQ_NODE" ping >/dev/null 2>&1); then
            die "an Erlang node $SWITCHBOARD_RABBITMQ_NODE is already running but is not ours ($RMQ_PIDFILE); stop it or set SWITCHBOARD_RABBITMQ_NODE"
        fi
        rm -f "$RMQ_PIDFILE"
        say "starting RabbitMQ node $SWITCHBOARD_RABBITMQ_NODE on $SWITCHBOARD_AMQP_HOST:$SWITCHBOARD_AMQP_PORT"
        printf '\n==== %s starting RabbitMQ\n' "$(date -Is)" >>"$RMQ_CONSOLE_LOG"
        (
            close_extra_fds
            rmq_env
            cd "$RMQ_HOME"
            setsid nohup "$RMQ_SBIN/rabbitmq-server" >>"$RMQ_CONSOLE_LOG" 2>&1 </dev/null &
            echo $! >"$LOCAL/run/rabbitmq-server.pid"  # the launcher shell; the VM writes $RMQ_PIDFILE
        )
        RMQ_STARTED_HERE=1
    fi
    # Wait until the node has booted (~10-15 s on a fresh data dir).
    local deadline=$((SECONDS + 120)) launcher
    launcher=$(read_pidfile "$LOCAL/run/rabbitmq-server.pid")
    # await_startup can return a moment before commands that need the rabbit app accept requests,
    # so also wait for such a command (list_vhosts) to succeed.
    until rmqctl await_startup --timeout 10 >/dev/null 2>&1 && rmqctl list_vhosts >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ] || { [ -z "$(rmq_pid)" ] && ! pid_alive "$launcher"; }; then
            tail -n 40 "$RMQ_CONSOLE_LOG" >&2
            die "RabbitMQ did not start (logs: $RMQ_CONSOLE_LOG, $RMQ_HOME/log)"
        fi
        sleep 1
    done
    say "RabbitMQ is up (pid $(rmq_pid))"
}

rmq_provision() {
    say "provisioning RabbitMQ vhost $SWITCHBOARD_AMQP_VHOST and its administrator"
    # The vhost and the administrator, so that the broker is usable before the build; the services'
    # users, their permissions and the shared exchanges and queues come from the code after it
    # (rmq_apply_definitions). Passwords go through a file, never argv.
    local pw
    pw=$(secret "$ADMIN_ROLE")
    [[ $pw =~ ^[0-9a-f]+$ ]] || die "password for $ADMIN_ROLE in secrets.env must be hex"
    rmq_import "{\"vhosts\":[{\"name\":\"$SWITCHBOARD_AMQP_VHOST\"}],\"users\":[{\"name\":\"$ADMIN_ROLE\",\"password\":\"$pw\",\"tags\":[\"administrator\"]}],\"permissions\":[{\"user\":\"$ADMIN_ROLE\",\"vhost\":\"$SWITCHBOARD_AMQP_VHOST\",\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}]}"
    local users
    users=$(rmqctl list_users --no-table-headers | awk '{print $1}')
    if grep -qx guest <<<"$users"; then
        rmqctl delete_user guest >/dev/null
    fi
}

# Every service's user, limited to its own queue, routing-key prefix and consumed event types,
# and the exchanges and dead-letter queues, as `switchboard broker definitions` derives them.
rmq_apply_definitions() {
    say "applying the broker's users, permissions and shared topology (switchboard broker definitions)"
    local definitions
    definitions=$(set -a && . "$LOCAL/secrets.env" && set +a &&
        SWITCHBOARD_AMQP_VHOST=$SWITCHBOARD_AMQP_VHOST "$(bin_path)/switchboard" broker definitions) ||
        die "switchboard broker definitions failed"
    rmq_import "$definitions"
}

rmq_import() {  # JSON definitions -> rabbitmqctl import_definitions (3.10 rejects "-" for stdin)
    local defs=$RMQ_HOME/definitions.json rc=0 attempt
    (umask 077 && printf '%s\n' "$1" >"$defs")
    for attempt in 1 2 3 4 5; do
        rc=0
        rmqctl import_definitions "$defs" >/dev/null 2>"$RMQ_HOME/import.err" && break || rc=$?
        sleep 2
    done
    [ "$rc" = 0 ] || cat "$RMQ_HOME/import.err" >&2
    rm -f "$RMQ_HOME/import.err" "$defs"
    [ "$rc" = 0 ] || die "rabbitmqctl import_definitions failed"
}

rmq_stop() {
    local pid
    pid=$(rmq_pid)
    [ -n "$pid" ] || { say "RabbitMQ (local) not running"; rm -f "$RMQ_PIDFILE"; epmd_maybe_stop; return 0; }
    say "stopping RabbitMQ (pid $pid)"
    if ! rmqctl stop "$RMQ_PIDFILE" >/dev/null 2>&1; then
        warn "rabbitmqctl stop failed; sending SIGTERM to $pid"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    local deadline=$((SECONDS + 30))
    while pid_alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    if pid_alive "$pid"; then
        warn "RabbitMQ still running; SIGKILL $pid"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RMQ_PIDFILE" "$LOCAL/run/rabbitmq-server.pid"
    epmd_maybe_stop
}

# ---------------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------------
BIN_PATH=

bin_path() {
    [ -n "$BIN_PATH" ] || BIN_PATH=$(cd "$REPO" && swift build -c "$CONFIG" --show-bin-path)
    echo "$BIN_PATH"
}

UP_BUILD_ARGS=()  # `test` adds --build-tests so that tests and services share one build

swift_build() {
    say "swift build -c $CONFIG ${UP_BUILD_ARGS[*]}"
    (cd "$REPO" && swift build -c "$CONFIG" "${UP_BUILD_ARGS[@]}") || die "swift build failed"
    BIN_PATH=$(cd "$REPO" && swift build -c "$CONFIG" --show-bin-path)
}

# pid of the running service $1, if its pid file points at a live process running one of our executables.
svc_pid() {
    local svc=$1 pid exe
    pid=$(read_pidfile "$LOCAL/run/$svc.pid")
    pid_alive "$pid" || return 0
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
    exe=${exe% (deleted)}
    [ "${exe##*/}" = "$svc" ] && echo "$pid"
    return 0
}

svc_stop() {
    local svc=$1 pid
    pid=$(svc_pid "$svc")
    if [ -z "$pid" ]; then rm -f "$LOCAL/run/$svc.pid"; return 0; fi
    say "stopping $svc (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while pid_alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.25; done
    if pid_alive "$pid"; then
        warn "$svc did not stop within ${STOP_TIMEOUT}s; SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$LOCAL/run/$svc.pid"
}

svc_start() {
    local svc=$1 role port bin pid pw log
    role=$(role_of "$svc")
    port=$(port_of "$svc")
    bin=$(bin_path)/$svc
    log=$LOCAL/logs/$svc.log
    [ -x "$bin" ] || die "executable $bin not found (did swift build produce it?)"
    pid=$(svc_pid "$svc")
    if [ -n "$pid" ]; then
        local started built
        started=$(proc_start_epoch "$pid" || echo 0)
        built=$(stat -c %Y "$bin")
        if [ "$built" -gt "$started" ]; then
            say "$svc: binary is newer than the running process; restarting"
            svc_stop "$svc"
        else
            say "$svc already running (pid $pid, port $port)"
            return 0
        fi
    fi
    pw=$(secret "$role")
    local extra=() other
    if [ "$svc" = gateway ]; then
        for other in "${ROLES[@]}"; do
            [ "$other" = gateway ] || extra+=("SWITCHBOARD_$(upper "$other")_URL=http://$HTTP_HOST:${PORTS[$other]}")
        done
    fi
    say "starting $svc on $HTTP_HOST:$port (log: $log)"
    printf '\n==== %s starting %s\n' "$(date -Is)" "$svc" >>"$log"
    (
        close_extra_fds
        cd "$REPO"
        env \
            SWITCHBOARD_SERVICE="$role" \
            SWITCHBOARD_HTTP_HOST="$HTTP_HOST" \
            SWITCHBOARD_HTTP_PORT="$port" \
            SWITCHBOARD_PG_HOST="$SWITCHBOARD_PG_HOST" \
            SWITCHBOARD_PG_PORT="$SWITCHBOARD_PG_PORT" \
            SWITCHBOARD_PG_DATABASE="$PG_DATABASE" \
            SWITCHBOARD_PG_USER="$role" \
            SWITCHBOARD_PG_PASSWORD="$pw" \
            SWITCHBOARD_AMQP_HOST="$SWITCHBOARD_AMQP_HOST" \
            SWITCHBOARD_AMQP_PORT="$SWITCHBOARD_AMQP_PORT" \
            SWITCHBOARD_AMQP_VHOST="$SWITCHBOARD_AMQP_VHOST" \
            SWITCHBOARD_AMQP_USER="$role" \
            SWITCHBOARD_AMQP_PASSWORD="$pw" \
            SWITCHBOARD_ADMIN_KEY="$SWITCHBOARD_ADMIN_KEY" \
            SWITCHBOARD_GATEWAY_TOKEN="$(gateway_token)" \
            "${extra[@]}" \
            setsid nohup "$bin" >>"$log" 2>&1 </dev/null &
        echo $! >"$LOCAL/run/$svc.pid"
    )
    STARTED_SERVICES+=("$svc")
}

svc_wait_ready() {
    local svc=$1 port url deadline pid
    port=$(port_of "$svc")
    url="http://$HTTP_HOST:$port/health/ready"
    deadline=$((SECONDS + HEALTH_TIMEOUT))
    until curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; do
        pid=$(svc_pid "$svc")
        if [ -z "$pid" ]; then
            printf '==> %s exited; last 40 lines of %s:\n' "$svc" "$LOCAL/logs/$svc.log" >&2
            tail -n 40 "$LOCAL/logs/$svc.log" >&2 || true
            die "$svc failed to start"
        fi
        if [ $SECONDS -ge $deadline ]; then
            printf '==> %s not ready after %ss; last 40 lines of %s:\n' "$svc" "$HEALTH_TIMEOUT" "$LOCAL/logs/$svc.log" >&2
            tail -n 40 "$LOCAL/logs/$svc.log" >&2 || true
            die "$svc did not become ready ($url)"
        fi
        sleep 1
    done
    say "$svc ready ($url)"
}

# Starts the given services in the order given, then waits until each is ready.
start_services() {
    local svc
    for svc in "$@"; do svc_start "$svc"; done
    for svc in "$@"; do svc_wait_ready "$svc"; done
}

# Stops every service, the gateway first: the reverse of the start order.
stop_services() {
    local i
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do svc_stop "${SERVICES[$i]}"; done
}

# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------
PG_STARTED_HERE=0
RMQ_STARTED_HERE=0
STARTED_SERVICES=()

cmd_infra() {
    require_root
    ensure_packages "${PACKAGES[@]}"
    ensure_dirs
    ensure_secrets
    ensure_admin_key
    pg_start
    pg_provision
    rmq_start
    rmq_provision
}

LOAD_DEMO=1

cmd_up() {
    cmd_infra
    swift_build
    rmq_apply_definitions
    start_services "${SERVICES[@]}"
    if [ "$LOAD_DEMO" = 1 ]; then
        say "loading demo data when the database has no contacts (skip with --no-demo)"
        SWITCHBOARD_ADMIN_KEY="$SWITCHBOARD_ADMIN_KEY" "$(bin_path)/switchboard" demo \
            --gateway "http://$HTTP_HOST:$SWITCHBOARD_GATEWAY_PORT" || warn "demo data could not be loaded"
    fi
    say "web app and API: http://$HTTP_HOST:$SWITCHBOARD_GATEWAY_PORT"
    say "admin API key: $SWITCHBOARD_ADMIN_KEY"
}

cmd_down() {
    require_root
    stop_services
    rmq_stop
    pg_stop
}

cmd_status() {
    local pid port svc
    if [ -f "$PG_DATA/PG_VERSION" ] && pg_running; then
        printf '%-11s %-8s pid %-8s port %s\n' postgres running "$(pg_pid)" "$(pg_running_port)"
    else
        printf '%-11s %-8s pid %-8s port %s\n' postgres stopped - "$SWITCHBOARD_PG_PORT"
    fi
    pid=$(rmq_pid)
    if [ -n "$pid" ]; then
        printf '%-11s %-8s pid %-8s port %s (node %s, dist %s)\n' rabbitmq running "$pid" "$SWITCHBOARD_AMQP_PORT" \
            "$SWITCHBOARD_RABBITMQ_NODE" "$SWITCHBOARD_RABBITMQ_DIST_PORT"
    else
        printf '%-11s %-8s pid %-8s port %s\n' rabbitmq stopped - "$SWITCHBOARD_AMQP_PORT"
    fi
    for svc in "${SERVICES[@]}"; do
        pid=$(svc_pid "$svc")
        port=$(port_of "$svc")
        if [ -n "$pid" ]; then
            printf '%-11s %-8s pid %-8s port %s\n' "$svc" running "$pid" "$port"
        else
            printf '%-11s %-8s pid %-8s port %s\n' "$svc" stopped - "$port"
        fi
    done
}

cmd_logs() {
    local name=${1:-}
    [ -n "$name" ] || die "usage: $0 logs SERVICE  (one of: ${SERVICES[*]} postgres rabbitmq)"
    local files=()
    case "$name" in
        postgres | postgresql | pg) files=("$PG_LOG") ;;
        rabbitmq | rabbit | amqp)
            files=("$RMQ_CONSOLE_LOG")
            [ -f "$RMQ_HOME/log/$SWITCHBOARD_RABBITMQ_NODE.log" ] && files+=("$RMQ_HOME/log/$SWITCHBOARD_RABBITMQ_NODE.log")
            ;;
        *)
            port_of "$name" >/dev/null || die "unknown service '$name' (one of: ${SERVICES[*]} postgres rabbitmq)"
            files=("$LOCAL/logs/${name//_/-}.log")
            ;;
    esac
    [ -f "${files[0]}" ] || die "no log yet: ${files[0]}"
    exec tail -n 200 -f "${files[@]}"
}

TEST_WAS_PG=0
TEST_WAS_RMQ=0
TEST_WAS_SVC=()
CONFORMANCE_MAIN_DATABASE=
CONFORMANCE_MAIN_VHOST=

test_cleanup() {
    local rc=$? i svc was
    trap - EXIT INT TERM
    set +e
    say "cleaning up what 'test' started"
    # A conformance check cut short leaves the services on its database: back to the main one.
    [ -n "$CONFORMANCE_MAIN_DATABASE" ] && conformance_restore
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        svc=${SERVICES[$i]}
        was=0
        for s in "${TEST_WAS_SVC[@]}"; do [ "$s" = "$svc" ] && was=1; done
        [ "$was" = 1 ] || svc_stop "$svc"
    done
    [ "$TEST_WAS_RMQ" = 1 ] || rmq_stop
    [ "$TEST_WAS_PG" = 1 ] || pg_stop
    exit "$rc"
}

cmd_test() {
    require_root
    local svc
    pg_running && TEST_WAS_PG=1
    rmq_running && TEST_WAS_RMQ=1
    for svc in "${SERVICES[@]}"; do [ -n "$(svc_pid "$svc")" ] && TEST_WAS_SVC+=("$svc"); done
    trap test_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    UP_BUILD_ARGS=(--build-tests)
    LOAD_DEMO=0  # tests make their own data
    cmd_up

    export SWITCHBOARD_PG_HOST SWITCHBOARD_PG_PORT
    export SWITCHBOARD_PG_DATABASE=$PG_DATABASE
    export SWITCHBOARD_PG_USER=$ADMIN_ROLE
    SWITCHBOARD_PG_PASSWORD=$(secret "$ADMIN_ROLE")
    export SWITCHBOARD_PG_PASSWORD
    export SWITCHBOARD_AMQP_HOST SWITCHBOARD_AMQP_PORT SWITCHBOARD_AMQP_VHOST
    export SWITCHBOARD_AMQP_MANAGEMENT_URL="http://127.0.0.1:$SWITCHBOARD_RABBITMQ_MANAGEMENT_PORT"
    export SWITCHBOARD_AMQP_USER=$ADMIN_ROLE
    export SWITCHBOARD_AMQP_PASSWORD=$SWITCHBOARD_PG_PASSWORD
    export SWITCHBOARD_RABBITMQCTL=$RMQCTL
    export SWITCHBOARD_PGCTL=$LOCAL/bin/pg_ctl
    export SWITCHBOARD_PG_SOCKET_DIR=$PG_SOCK
    SWITCHBOARD_GATEWAY_TOKEN=$(gateway_token)
    export SWITCHBOARD_GATEWAY_TOKEN
    SWITCHBOARD_BIN_PATH=$(bin_path)
    export SWITCHBOARD_BIN_PATH
    export SWITCHBOARD_GATEWAY_URL="http://$HTTP_HOST:$SWITCHBOARD_GATEWAY_PORT"
    export SWITCHBOARD_ADMIN_KEY
    export SWITCHBOARD_TEST_SECRETS=$LOCAL/secrets.env

    local status=0 conformance=${SWITCHBOARD_CONFORMANCE:-1}
    # The API's answers against its document, by a client nobody here wrote; only in a full run
    # (arguments select Swift tests), unless SWITCHBOARD_CONFORMANCE=0; =only runs nothing else.
    [ "$#" = 0 ] || [ "$conformance" != only ] || die "SWITCHBOARD_CONFORMANCE=only takes no test arguments"
    [ "$#" = 0 ] && [ "$conformance" != 0 ] && conformance_venv  # before the long run: a missing package fails at once
    if [ "$conformance" != only ]; then
        say "swift build -c $CONFIG --build-tests"
        (cd "$REPO" && swift build -c "$CONFIG" --build-tests) || die "swift build --build-tests failed"
        say "swift test -c $CONFIG --skip-build --no-parallel $*"
        (cd "$REPO" && swift test -c "$CONFIG" --skip-build --no-parallel "$@") </dev/null || status=$?
    fi
    if [ "$status" = 0 ] && [ "$#" = 0 ] && [ "$conformance" != 0 ]; then
        conformance_check || status=$?
    fi
    if [ "$status" = 0 ]; then say "tests passed"; else say "tests FAILED (exit $status)"; fi
    exit "$status"  # the EXIT trap stops what this command started and keeps this status
}

# The outside clients' checks, after the Swift tests: an ERP played with pika against the bridge's
# contract (Tests/ERP/run.py, which leaves orders for the next two), the web app in headless Chromium
# (Debian's chromium and chromium-driver, driven by selenium; Tests/Browser/run.py), then schemathesis
# (Tests/APIConformance/run.py) against the gateway with the admin key; both from PyPI, pinned, in
# .local/venv (Debian's python3 with python3-venv). The services run for them on a database and a
# vhost of their own, made fresh, with the demo data: the browser signs in as the demo's users,
# the fuzzer writes as the admin (pipelines, the lost-reason catalog, custom fields…), and what
# they leave must meet no later test.
conformance_venv() {
    ensure_packages "${TEST_PACKAGES[@]}"
    local venv=$LOCAL/venv
    if ! "$venv/bin/python" -c "import schemathesis, selenium, pika, sys; sys.exit(schemathesis.__version__ != '$SCHEMATHESIS_VERSION' or selenium.__version__ != '$SELENIUM_VERSION' or pika.__version__ != '$PIKA_VERSION')" 2>/dev/null; then
        say "installing schemathesis $SCHEMATHESIS_VERSION, selenium $SELENIUM_VERSION and pika $PIKA_VERSION in $venv"
        /usr/bin/python3 -m venv "$venv" || die "python3 -m venv failed"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" "selenium==$SELENIUM_VERSION" \
            "pika==$PIKA_VERSION" </dev/null || die "pip install schemathesis selenium pika failed"
    fi
}

conformance_check() {
    local status=0
    CONFORMANCE_MAIN_DATABASE=$PG_DATABASE
    CONFORMANCE_MAIN_VHOST=$SWITCHBOARD_AMQP_VHOST
    stop_services
    PG_DATABASE=${CONFORMANCE_MAIN_DATABASE}_conformance
    SWITCHBOARD_AMQP_VHOST=${CONFORMANCE_MAIN_VHOST}_conformance
    conformance_drop
    pg_provision
    rmq_provision
    rmq_apply_definitions
    start_services "${SERVICES[@]}"
    SWITCHBOARD_ADMIN_KEY="$SWITCHBOARD_ADMIN_KEY" "$(bin_path)/switchboard" demo --gateway "$SWITCHBOARD_GATEWAY_URL" >/dev/null ||
        die "demo data could not be loaded for the conformance check"
    say "ERP contract: an outside client (pika) plays ERPs against the bridge (Tests/ERP/run.py)"
    SWITCHBOARD_PG_DATABASE=$PG_DATABASE "$LOCAL/venv/bin/python" "$REPO/Tests/ERP/run.py" </dev/null || status=$?
    if [ "$status" = 0 ]; then
        say "web app in headless Chromium against $SWITCHBOARD_GATEWAY_URL (screenshots in $LOCAL/browser)"
        "$LOCAL/venv/bin/python" "$REPO/Tests/Browser/run.py" "$SWITCHBOARD_GATEWAY_URL" "$LOCAL/browser" </dev/null || status=$?
    fi
    if [ "$status" = 0 ]; then
        say "API conformance: schemathesis against $SWITCHBOARD_GATEWAY_URL/api/v1/openapi.json ($PG_DATABASE)"
        "$LOCAL/venv/bin/python" "$REPO/Tests/APIConformance/run.py" </dev/null || status=$?
    fi
    conformance_restore
    return "$status"
}

# The services back on the main database and vhost, as they were before `test` (and ready), the
# conformance database and vhost gone; also what the EXIT trap does when the check was cut short.
conformance_restore() {
    stop_services
    conformance_drop
    PG_DATABASE=$CONFORMANCE_MAIN_DATABASE
    SWITCHBOARD_AMQP_VHOST=$CONFORMANCE_MAIN_VHOST
    CONFORMANCE_MAIN_DATABASE=
    start_services "${TEST_WAS_SVC[@]}"
}

conformance_drop() {
    psql_super -d postgres -c "DROP DATABASE IF EXISTS $PG_DATABASE WITH (FORCE)" >/dev/null ||
        die "could not drop $PG_DATABASE"
    if rmqctl list_vhosts | grep -qx "$SWITCHBOARD_AMQP_VHOST"; then
        rmqctl delete_vhost "$SWITCHBOARD_AMQP_VHOST" >/dev/null || die "could not delete vhost $SWITCHBOARD_AMQP_VHOST"
    fi
}

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
    case "$CONFIG" in debug | release) ;; *) die "SWITCHBOARD_BUILD_CONFIGURATION must be debug or release" ;; esac
    local cmd=${1:-}
    [ $# -gt 0 ] && shift
    case "$cmd" in
        up)
            case "${1:-}" in
                --no-demo) LOAD_DEMO=0 ;;
                "") ;;
                *) die "up takes only --no-demo" ;;
            esac
            cmd_up
            ;;
        down) cmd_down ;;
        status) cmd_status ;;
        logs) cmd_logs "$@" ;;
        test) cmd_test "$@" ;;
        infra) cmd_infra ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
