#!/usr/bin/env bash
# Bascule's whole test suite: formatting, lints, and every test — each store and ledger test on
# SQLite and on PostgreSQL. PostgreSQL is required: if none answers on 127.0.0.1:5432 this script
# installs and starts Debian's (as root, or through sudo), and fails loudly if it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

pg_port_open() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else die "PostgreSQL is missing and this user cannot install it (not root, no sudo). Start PostgreSQL 15+ on 127.0.0.1:5432 or set BASCULE_TEST_POSTGRES_URL."; fi
}

# The tests connect as postgres@127.0.0.1 without a password (postgres_admin_url()).
pg_passwordless_ok() {
  env -u PGPASSWORD PGPASSFILE=/dev/null PGCONNECT_TIMEOUT=5 \
    psql -h 127.0.0.1 -U postgres -d postgres -w -q -c 'select 1' >/dev/null 2>&1
}

# Debian asks TCP clients for a password (scram-sha-256): trust local TCP connections instead,
# first in pg_hba.conf so they win over the package's rules. No password is ever set.
trust_local_tcp() {
  local version=$1 hba="/etc/postgresql/$1/main/pg_hba.conf"
  as_root test -f "$hba" || die "no $hba: cannot let the tests connect to PostgreSQL $version"
  # pg_hba.conf is first match wins: the two lines must come before any other rule.
  local first
  first=$(as_root grep -vE '^[[:space:]]*(#|$)' "$hba" | head -n 2 | tr -s ' \t' ' ')
  if [ "$first" != $'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' ]; then
    say "Trusting local TCP connections in $hba"
    local tmp
    tmp=$(mktemp)
    { printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'; as_root cat "$hba"; } >"$tmp"
    as_root cp "$tmp" "$hba"
    rm -f "$tmp"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
}

ensure_postgres() {
  if [ -n "${BASCULE_TEST_POSTGRES_URL:-}" ]; then
    say "Using PostgreSQL at the configured BASCULE_TEST_POSTGRES_URL"
    return
  fi
  if pg_port_open; then
    say "PostgreSQL answers on 127.0.0.1:5432"
    if command -v psql >/dev/null 2>&1 && ! pg_passwordless_ok; then
      die "PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password. Let local TCP connections in (e.g. 'host all all 127.0.0.1/32 trust' first in pg_hba.conf, then reload), or set BASCULE_TEST_POSTGRES_URL=postgres://USER:PASSWORD@HOST:PORT/postgres."
    fi
    return
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "Installing PostgreSQL (Debian package)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$version" ] || die "PostgreSQL is installed but has no cluster under /etc/postgresql"
  say "Starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_port_open && break; sleep 1; done
  pg_port_open || die "PostgreSQL did not start on 127.0.0.1:5432"
  trust_local_tcp "$version"
  if command -v psql >/dev/null 2>&1; then
    for _ in $(seq 1 10); do pg_passwordless_ok && break; sleep 1; done
    pg_passwordless_ok || die "PostgreSQL $version started but refuses user postgres on 127.0.0.1 without a password (check /etc/postgresql/$version/main/pg_hba.conf)"
  fi
}

# The customer-page tests drive Debian's Chromium through chromedriver (bascule_testkit::browser),
# which looks for exactly these two paths; they fail, never skip, without them.
ensure_chromium() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    say "Chromium and chromedriver are installed"
    return
  fi
  say "Installing Chromium and chromedriver (Debian packages chromium, chromium-driver)"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "Chromium or chromedriver is missing and this user cannot install them (not root, no sudo). Install the Debian packages chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)."
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "apt-get update failed: cannot install chromium and chromium-driver"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver \
    || die "apt-get install chromium chromium-driver failed"
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
    || die "chromium and chromium-driver are installed but /usr/bin/chromium or /usr/bin/chromedriver is missing"
}

command -v cargo >/dev/null 2>&1 || die "cargo is required (https://rustup.rs)"
ensure_postgres
ensure_chromium

say "Formatting"
cargo fmt --all -- --check

say "Lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "Tests (SQLite and PostgreSQL)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run, summed over every test binary.
passed=$(grep -oE '^test result: .* ([0-9]+) passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
failed=$(grep -oE '^test result: .* ([0-9]+) failed' "$log" | grep -oE '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
[ "$status" -eq 0 ] || die "tests failed ($failed failed)"
[ "$passed" -gt 0 ] || die "no test ran"
echo
echo "tests: $passed passed, $failed failed"

# ---- schemathesis: the official-spec fuzzer (issue 18 item 6) -------------------------------
# The running bank driven from the official v3.1.11 AIS, CoF and PIS OpenAPI files by
# schemathesis (crates/conformance/src/bin/schemathesis.rs: the bank, a TPP's certificate,
# tokens and signer; crates/conformance/schemathesis/: the hook and the exact pins). Installed
# into its own venv under ~/.cache/bascule; never skipped: without python3, venv or pip this fails.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_PINS=crates/conformance/schemathesis/requirements.txt

schemathesis_venv() {
  local dir="$HOME/.cache/bascule/schemathesis-$SCHEMATHESIS_VERSION"
  # A venv is not relocatable: it is made in place, and `.installed` marks it finished.
  if [ -f "$dir/.installed" ] && "$dir/bin/schemathesis" --version 2>/dev/null | grep -qF "$SCHEMATHESIS_VERSION"; then
    echo "$dir"
    return
  fi
  command -v python3 >/dev/null 2>&1 || die "python3 is required for the schemathesis run (Debian: apt-get install python3 python3-venv)"
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3 cannot make a venv with pip (Debian: apt-get install python3-venv)"
  say "Installing schemathesis $SCHEMATHESIS_VERSION into $dir" >&2
  rm -rf "$dir"
  python3 -m venv "$dir" >&2 || die "python3 -m venv $dir failed"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    -r "$SCHEMATHESIS_PINS" >&2 || die "pip could not install $SCHEMATHESIS_PINS"
  "$dir/bin/schemathesis" --version >/dev/null || die "the installed schemathesis does not run"
  touch "$dir/.installed"
  echo "$dir"
}

run_schemathesis() {
  local venv
  venv=$(schemathesis_venv)
  say "schemathesis $SCHEMATHESIS_VERSION against the official v3.1.11 AIS, CoF and PIS files"
  local log
  log=$(mktemp)
  set +e
  cargo run --quiet --locked -p bascule-conformance --bin schemathesis -- \
    --schemathesis "$venv/bin/schemathesis" --max-examples 20 --seed 18 \
    --report-dir "${TMPDIR:-/tmp}/bascule-schemathesis" >"$log" 2>&1
  local status=$?
  set -e
  grep -E '^==> schemathesis' "$log" || true
  if [ "$status" -ne 0 ]; then
    cat "$log"
    rm -f "$log"
    die "schemathesis found failures (report in ${TMPDIR:-/tmp}/bascule-schemathesis)"
  fi
  rm -f "$log"
}

run_schemathesis
# ---- end schemathesis ----------------------------------------------------------------------
