#!/usr/bin/env bash
# System packages the product needs, installed with apt where we can (root or sudo).
#   site:  WeasyPrint's Pango, HarfBuzz subsetting (fast font subsetting) and DejaVu fonts
#   test:  the above, plus Debian's Chromium for the browser tests and poppler for PDF checks, and a
#          single-node SLURM for the tests marked slurm (scripts/slurm-deps.sh)
set -euo pipefail
what="${1:-site}"
here="$(dirname "$0")"
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$what" = "test" ]; then
  packages+=(chromium poppler-utils git)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "Please install these system packages with your package manager: ${missing[*]}" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing system packages: ${missing[*]}" >&2
  # another apt (an unattended upgrade on a fresh CI machine) may hold the lock for a while: wait for it
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$what" = "test" ]; then
  "$here/slurm-deps.sh"
fi
