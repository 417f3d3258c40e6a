# shellcheck shell=bash
# Helpers shared by the scripts in this folder, to be sourced, not run.

# The repository root and the shared data beside it (read-only).
ATTEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ATTEST_SHARED=$(cd "$ATTEST_ROOT/.." && pwd)/shared
ATTEST_REAL="$ATTEST_SHARED/data/real"
export ATTEST_ROOT ATTEST_SHARED ATTEST_REAL

# Debian 12 packages that building, testing and fuzzing need.
ATTEST_PACKAGES=(build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
    libssl-dev libjansson-dev libcmocka-dev jq xxd nodejs npm
    libjose-dev libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev sqlite3
    python3 python3-jwt python3-cryptography openssl curl ca-certificates procps)

section() {
    printf '\n==== %s ====\n' "$*"
}

# Installs the missing packages with apt-get (one update, then one install).
# node and npm count as present when both commands exist, because a Node.js
# package from another APT repository (such as NodeSource's) ships npm, and
# Debian's npm package would conflict with it.
install_packages() {
    local missing=() package
    for package in "${ATTEST_PACKAGES[@]}"; do
        case $package in
            nodejs | npm)
                if command -v node >/dev/null && command -v npm >/dev/null; then
                    continue
                fi
                ;;
        esac
        if ! dpkg -s "$package" >/dev/null 2>&1; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all packages present"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages: ${missing[*]}; run as root to install them" >&2
        return 1
    fi
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures (or reconfigures) a meson build folder and builds it. Each step
# checks its status itself, because callers often run this in an `if`, where
# set -e does not apply.
# Usage: meson_build DIR [meson options...]
meson_build() {
    local dir=$1
    shift
    if [ -d "$ATTEST_ROOT/$dir/meson-private" ]; then
        meson configure "$ATTEST_ROOT/$dir" "$@" || return 1
    else
        meson setup "$ATTEST_ROOT/$dir" "$ATTEST_ROOT" "$@" || return 1
    fi
    ninja -C "$ATTEST_ROOT/$dir" || return 1
}

# Prints "P F" from the last "N passed, N failed" line of a log file, or
# nothing when the log has no such line.
read_counts() {
    sed -n -E 's/^([0-9]+) passed, ([0-9]+) failed.*$/\1 \2/p' "$1" | tail -n 1
}
