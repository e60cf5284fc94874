#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing: docker-compose (to validate
# docker-compose.yml), iproute2 (network namespaces for the nftables tests), chromium (the
# deadline board's browser tests drive it headless; installed without its recommended packages,
# which a headless browser does not need), PostgreSQL and MariaDB (the production-topology,
# ledger and register tests, and the SQL subjects sources; .ci/run starts them).
set -euo pipefail
need=()
lean=()
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v chromium >/dev/null 2>&1 || lean+=(chromium)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
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
