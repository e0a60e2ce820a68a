#!/usr/bin/env bash
# A single-node SLURM for the tests marked slurm: Debian's slurm-wlm (munge, slurmctld, slurmd, the
# client commands) and slurmdbd with MariaDB for accounting. The tests start their own daemons on
# 127.0.0.1 with their state in a temporary folder, as root, and stop them (tests/smoke/slurm_cluster.py),
# so the packages' own services are kept from starting here.
# Best effort: where the packages cannot be installed, this says so and the slurm tests are skipped
# with the reason; it never fails the rest of the setup.
set -uo pipefail
packages=(slurmctld slurmd slurm-client munge slurmdbd mariadb-server)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
skip() {
  echo "Not installing ${missing[*]} ($1): the tests marked slurm will be skipped" >&2
  exit 0
}
command -v apt-get >/dev/null || skip "no apt-get here"
[ "$(id -u)" -eq 0 ] || skip "the test cluster's daemons run as root, and this is not root"
echo "Installing a single-node SLURM for the tests: ${missing[*]}" >&2
# Keep the packages' services from starting on install (the tests start their own), as container
# images do: a policy-rc.d that refuses, removed again afterwards unless it was already there.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || skip "apt-get update failed"
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends \
  "${missing[@]}" >/dev/null || skip "apt-get install failed"
