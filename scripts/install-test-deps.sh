#!/usr/bin/env bash
# Installs the system packages that the integration tests need (Debian 12 / bookworm, as root or via sudo):
#   prosody                      - the real XMPP server started by moxl-test-support
#   ejabberd                     - the second real XMPP server (23.01 on bookworm), started the same way by
#                                  moxl-test-support (its own VM per test file, no ejabberdctl, no epmd)
#   lua-unbound                  - Prosody's recommended DNS library (without it every start prints a warning)
#   sasl2-bin libsasl2-modules   - Cyrus SASL reference server for the CRAM-MD5 / DIGEST-MD5 tests
#   prosody-modules              - community modules: SASL2, Bind2, FAST (XEP-0388/0386/0484) for the SASL2 tests
#   dnsmasq-base                 - a real DNS server (the binary only, no service) for the SRV resolution tests
#   postgresql-client            - psql, with which the test support creates and drops throw-away databases
#   postgresql                   - a PostgreSQL server on 127.0.0.1:5432 for the session-store tests (only when none
#                                  answers there; see ensure_postgres below)
#
# Idempotent: installs only what is missing and runs `apt-get update` only when something must be installed.
# The packaged Prosody service is never left running: the tests start their own servers on free loopback ports.
set -euo pipefail

PACKAGES=(prosody prosody-modules lua-unbound ejabberd sasl2-bin libsasl2-modules dnsmasq-base postgresql-client)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-test-deps: must run as root (or with sudo available)" >&2
        exit 1
    fi
fi

# PostgreSQL for the session-store tests and benchmark (tests/session_store.rs, benches/store.rs): a server on
# 127.0.0.1:5432 that trusts TCP connections from 127.0.0.1 for the user postgres, with a database `test`. A server
# that already answers there is left as it is. Otherwise Debian's `postgresql` is installed if missing, the line
# `host all postgres 127.0.0.1/32 trust` put first in the cluster's pg_hba.conf, and the cluster started (without
# systemd).
ensure_postgres() {
    if command -v pg_isready > /dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
        echo "install-test-deps: PostgreSQL answers on 127.0.0.1:5432"
        return 0
    fi
    if [ "$(dpkg-query -W -f='${Status}' postgresql 2> /dev/null || true)" != "install ok installed" ]; then
        echo "install-test-deps: installing postgresql"
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
    fi
    local version hba trust='host all postgres 127.0.0.1/32 trust'
    version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    if ! "${SUDO[@]}" grep -qxF "$trust" "$hba"; then
        # The first matching line of pg_hba.conf wins: ours goes first.
        { echo "$trust"; "${SUDO[@]}" cat "$hba"; } | "${SUDO[@]}" tee "$hba.moxl-new" > /dev/null
        "${SUDO[@]}" chown --reference="$hba" "$hba.moxl-new"
        "${SUDO[@]}" chmod --reference="$hba" "$hba.moxl-new"
        "${SUDO[@]}" mv "$hba.moxl-new" "$hba"
    fi
    # Start the cluster; if apt already started it, reload it so that it reads the new pg_hba.conf.
    if ! "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main start 2> /dev/null; then
        "${SUDO[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    fi
    for _ in $(seq 1 50); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 0.2
    done
    if ! pg_isready -h 127.0.0.1 -p 5432; then
        echo "install-test-deps: PostgreSQL $version did not come up on 127.0.0.1:5432" >&2
        exit 1
    fi
    if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
        psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
    fi
    echo "install-test-deps: PostgreSQL $version running on 127.0.0.1:5432"
}
ensure_postgres

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-test-deps: all present (${PACKAGES[*]})"
    exit 0
fi

echo "install-test-deps: installing ${missing[*]}"

# Keep apt from starting the packaged services (Prosody would listen on 5222/5269/5280 with /etc/prosody, ejabberd
# on 5222/5269/5280/5443/1883/3478 with /etc/ejabberd).
# policy-rc.d exiting 101 tells invoke-rc.d "action forbidden". Create one only if there is none, and remove
# only the one we created.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# Temporary: written by scripts/install-test-deps.sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" > /dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    created_policy=1
fi
cleanup() {
    if [ "$created_policy" -eq 1 ]; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT

# The packaged service runs as `lua5.4 /usr/bin/prosody ...` without --config (test servers always pass
# --config). Processes that were running before the install are none of our business.
packaged_prosody_pids() {
    local pid cmd
    for pid in $(pgrep -f '/usr/bin/prosody' 2> /dev/null || true); do
        cmd=$(tr '\0' ' ' 2> /dev/null < "/proc/$pid/cmdline") || continue
        case "$cmd" in
            *--config*) ;;
            lua*" /usr/bin/prosody"* | /usr/bin/lua*" /usr/bin/prosody"*) echo "$pid" ;;
        esac
    done
}
# The packaged ejabberd runs as the system user `ejabberd` (its Erlang VM, and the epmd it starts); test servers
# run as the test user.
packaged_ejabberd_pids() {
    if id ejabberd > /dev/null 2>&1; then
        pgrep -u ejabberd -f 'beam.smp|epmd' 2> /dev/null || true
    fi
}
before=" $( { packaged_prosody_pids; packaged_ejabberd_pids; } | tr '\n' ' ') "

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

# If a packaged Prosody or ejabberd got started anyway (e.g. a policy-rc.d that allowed it), stop it, by its pid.
for pid in $(packaged_prosody_pids) $(packaged_ejabberd_pids); do
    case "$before" in
        *" $pid "*) continue ;;
    esac
    echo "install-test-deps: stopping a packaged server process (pid $pid)"
    "${SUDO[@]}" kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    "${SUDO[@]}" kill -KILL "$pid" 2> /dev/null || true
done

echo "install-test-deps: done"
