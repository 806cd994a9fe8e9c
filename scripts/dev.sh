#!/usr/bin/env bash
# Developer entry point.
#   bash scripts/dev.sh demo   install mcinfra and run the demo (embedded SQLite + mock cloud)
#   bash scripts/dev.sh test   install everything the tests need (Debian packages when root) and run them all
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

debian_packages() {
  # twin + CLADNet need namespaces, nftables, sshd, WireGuard; the shared-store tests need PostgreSQL
  local pkgs=(iproute2 nftables openssh-server openssh-client iputils-ping wireguard-tools wireguard-go
              postgresql socat netcat-openbsd procps psmisc)
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "not root or no apt-get: skipping Debian packages (twin/CLADNet/PostgreSQL tests will skip)"
    return
  fi
  local missing=()
  for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

case "${1:-}" in
  demo)
    $PY -m pip install -q .
    # the console script, or the same program by module where the new script is not on PATH yet
    if command -v mcinfra >/dev/null; then exec mcinfra demo; else exec $PY -m mcinfra.cli.main demo; fi
    ;;
  test)
    debian_packages
    $PY -m pip install -q -e '.[dev]'
    # The OpenStack fake validates Nova bodies with Tempest's response schemas. Those modules
    # import only `copy` and each other, so tempest is installed without its ~40 dependencies
    # (oslo.*, paramiko, stestr...); a dev extra would pull them all. `pip check` will name them.
    $PY -m pip install -q --no-deps 'tempest==47.0.0'
    $PY -m ruff check mcinfra tests bench
    status=0
    $PY -m pytest -q -p no:cacheprovider -o console_output_style=classic "${@:2}" || status=$?
    if [ "$status" = 5 ]; then echo "pytest collected no tests"; exit 1; fi
    [ "$status" = 0 ] || exit "$status"
    echo "--- benchmarks (figures, not pass/fail) ---"
    $PY bench/overhead_bench.py --n 1000
    $PY bench/splock_bench.py --n 100 --latency 0.1
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test [pytest args]" >&2
    exit 2
    ;;
esac
