#!/bin/sh
# Installs the locked dependencies when they are missing or older than package-lock.json (fresh clone, pull).
set -e
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
