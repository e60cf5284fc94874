#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing: docker-compose (to validate
# docker-compose.yml), iproute2 (network namespaces for the nftables tests) and chromium (the
# deadline board's browser tests drive it headless; installed without its recommended packages,
# which a headless browser does not need).
set -euo pipefail
need=()
lean=()
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v chromium >/dev/null 2>&1 || lean+=(chromium)
if [ $((${#need[@]} + ${#lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]} ${lean[*]}; install them with: sudo apt-get install ${need[*]} ${lean[*]}" >&2
    exit 1
  fi
  echo "installing ${need[*]} ${lean[*]} from Debian…"
  apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ${#lean[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
  fi
fi
