#!/bin/sh
# Installs what wbx needs on this machine, then wbx itself.
#
#   sh install.sh               toolchain pieces + the `wbx` binary (a release build: about 12 minutes on 2 cores)
#   sh install.sh --tools-only  toolchain pieces, tmux and PostgreSQL only (what the test suite needs)
#
# Non-interactive; safe to run again. Needs Rust installed with rustup.
set -eu

tools_only=0
for arg in "$@"; do
    case "$arg" in
        --tools-only) tools_only=1 ;;
        -h|--help)
            sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "install.sh: unknown option '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done

say() { printf 'install.sh: %s\n' "$*"; }
root=$(cd "$(dirname "$0")" && pwd)

if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
    say "cargo and rustup are needed: install Rust with rustup (https://rustup.rs), then run this again" >&2
    exit 1
fi
say "using $(rustc --version)"

if rustup target list --installed | grep -qx 'wasm32-wasip2'; then
    say "wasm32-wasip2 target: already installed"
else
    say "wasm32-wasip2 target: adding"
    rustup target add wasm32-wasip2
fi

# Installs Debian packages with apt-get (as root, or through sudo).
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        say "$1: not found and no apt-get here; install it to run the tests" >&2
        exit 1
    fi
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    if [ -z "${apt_updated:-}" ]; then
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if [ "$tools_only" -eq 1 ]; then
    # The test suite drives `wbx new`'s questions in a real terminal through tmux.
    if command -v tmux >/dev/null 2>&1; then
        say "tmux: already installed"
    else
        say "tmux: installing with apt-get"
        apt_install tmux
    fi
    # The event store's tests run against a PostgreSQL server they start
    # themselves in a temporary directory (as the postgres user under root).
    if { command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } \
        && command -v psql >/dev/null 2>&1; then
        say "postgresql: already installed"
    else
        say "postgresql: installing with apt-get"
        apt_install postgresql postgresql-client
    fi
fi

if [ "$tools_only" -eq 1 ]; then
    say "done (tools only)"
    exit 0
fi

say "building and installing wbx (a release build: about 12 minutes on 2 cores, less on more)"
cargo install --locked --path "$root/cli"
bin_dir="${CARGO_HOME:-$HOME/.cargo}/bin"
say "installed $bin_dir/wbx"
if ! command -v wbx >/dev/null 2>&1; then
    say "note: $bin_dir is not on PATH; add it, e.g. export PATH=\"$bin_dir:\$PATH\""
fi
say "done: try 'wbx doctor'"
