#!/usr/bin/env bash
# scripts/deps.sh: `make deps`. Installs the Debian packages salesboard
# needs to build and test (as root), or prints the apt-get command that
# would (anyone else). `make test` and `make demo` do this themselves.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$src/scripts/lib.sh"
sb_ensure_packages
sb_say "all packages are installed: ${SB_PACKAGES[*]}"
