#!/usr/bin/env bash
# Runs every test of the workspace: unit tests and the end-to-end tests against real peers.
#
#   bash tests/run-all.sh                  install missing peers, build, test
#   bash tests/run-all.sh --install-deps   only install missing peers (CI does this first)
#
# Peers are Debian packages: sip-tester (sipp), baresip, libopus-dev, pkg-config, espeak-ng,
# sox, python3-venv. They are installed with apt-get when missing (as root, else through
# sudo). The ESL client library greenswitch (PyPI) goes into a virtualenv,
# $CARGO_TARGET_DIR/esl-venv (default target/esl-venv), where the ESL tests look. The tests
# run with FERROSWITCH_REQUIRE_PEERS=1, so a missing peer fails them instead of skipping.
# The exit status is the tests'.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

install_deps() {
    local missing=()
    command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
    command -v baresip >/dev/null 2>&1 || missing+=(baresip)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
    command -v sox >/dev/null 2>&1 || missing+=(sox)
    dpkg-query -W -f='${Status}' libopus-dev 2>/dev/null | grep -q 'ok installed' \
        || missing+=(libopus-dev)
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
    [ "${#missing[@]}" -eq 0 ] && return 0

    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "run-all.sh: need root or sudo to install: ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "run-all.sh: installing ${missing[*]}" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "${missing[@]}"
}

# greenswitch, a FreeSWITCH ESL client on gevent, for tests/tests/esl_greenswitch.rs.
install_esl_clients() {
    local venv="${CARGO_TARGET_DIR:-$PWD/target}/esl-venv"
    if "$venv/bin/python" -c 'import greenswitch' >/dev/null 2>&1; then
        return 0
    fi
    echo "run-all.sh: installing greenswitch into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check greenswitch
}

install_deps
install_esl_clients
[ "${1:-}" = "--install-deps" ] && exit 0

cargo build --workspace
# The harness runs the binary cargo just built (it would otherwise rebuild it itself).
export FERROSWITCH_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/ferroswitch"
FERROSWITCH_REQUIRE_PEERS=1 cargo test --workspace
