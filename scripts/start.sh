#!/usr/bin/env bash
# The main job on the embedded default: bash scripts/start.sh [opsconductor arguments]
#
# Creates .venv on first use, installs OpsConductor into it, then runs `opsconductor chat`
# (or the arguments given, e.g. `bash scripts/start.sh ask "ping 127.0.0.1"`).
# Embedded default: SQLite under ~/.opsconductor, in-process cache, the shipped static roles
# and policy, no LLM, no GPU, no Docker, no network services.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.opsconductor-app-stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

python_bin() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    echo "OpsConductor needs Python 3.11 or newer (python3.11 / python3 not found)" >&2
    return 1
}

make_venv() {
    local py
    py="$(python_bin)"
    if ! "$py" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
            echo "installing python3-venv (Debian keeps venv in its own package)..." >&2
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv </dev/null >/dev/null
            "$py" -m venv "$VENV"
        else
            echo "cannot create a virtual environment: install python3-venv (sudo apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
}

[[ -x "$VENV/bin/python" ]] || make_venv
if [[ ! -f "$STAMP" || "$ROOT/pyproject.toml" -nt "$STAMP" ]]; then
    echo "installing OpsConductor into $VENV (first run only)..." >&2
    "$VENV/bin/pip" install -q -e "$ROOT" >&2
    touch "$STAMP"
fi
if [[ $# -eq 0 ]]; then
    set -- chat
fi
exec "$VENV/bin/opsconductor" "$@"
