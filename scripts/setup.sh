#!/usr/bin/env bash
# Installs what Hybrid needs on a fresh Debian 12 machine (as root): LLVM/MLIR
# 22, clang-22 + lld-22, libomp, the sanitizer and libFuzzer runtimes
# (libclang-rt-22-dev), Ninja, ccache, CMake, GoogleTest. Packages
# already present are left alone, so a second run costs a second.
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools
  clang-22 lld-22 libomp-22-dev libclang-rt-22-dev
  ninja-build ccache cmake libgtest-dev libgmock-dev python3 pkgconf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
