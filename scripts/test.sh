#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, builds,
# runs ctest (every GoogleTest case, and the lit suite as one test), then
# installs the Python package into a fresh venv (pip install ./python) and
# runs its pytest suite and examples/python/quickstart.py. Exits non-zero if
# anything fails; ctest's and pytest's summaries are printed.
# (`cmake --build build --target check-hybrid` runs the C++ side through lit
# instead.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

(cd "$build" && ctest --output-on-failure -j2)

# The Python package, as a user installs it (numpy and pytest from PyPI).
venv="$build/python-venv"
rm -rf "$venv"
python3 -m venv "$venv"
HYBRID_BUILD_DIR="$build" "$venv/bin/pip" install -q "$root/python" pytest
export HYBRID_CACHE_DIR="$build/python-cache"
rm -rf "$HYBRID_CACHE_DIR"
# From outside python/, so that the installed package is the one imported.
(cd "$build" && "$venv/bin/python" "$root/examples/python/quickstart.py")
(cd "$build" && "$venv/bin/pytest" -p no:cacheprovider -q "$root/python/tests")
