#!/bin/sh
# Installs what wbx needs on this machine, then wbx itself.
#
#   sh install.sh               toolchain pieces + the `wbx` binary (a release build: about 12 minutes on 2 cores)
#   sh install.sh --tools-only  toolchain pieces and tmux only (what the test suite needs)
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

# The test suite drives `wbx new`'s questions in a real terminal through tmux.
if [ "$tools_only" -eq 0 ]; then
    :
elif command -v tmux >/dev/null 2>&1; then
    say "tmux: already installed"
elif command -v apt-get >/dev/null 2>&1; then
    say "tmux: installing with apt-get"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux
else
    say "tmux: not found and no apt-get here; install tmux to run the terminal tests" >&2
    exit 1
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
