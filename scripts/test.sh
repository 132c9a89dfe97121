#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it (lint included).
# Used by the README and by .ci/run; works on a fresh machine with Python 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# Debian packages: the full Fashion-MNIST (IDX files under /usr/share/datasets/fashion-mnist/)
# for the dataset tests, and Chromium for the browser tests (report page, dashboard). Best
# effort: without them those tests skip and say why.
need=()
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") \
    >/dev/null 2>&1 || echo "note: could not install ${need[*]}; their tests will skip"
fi

python3 -m ruff check .
python3 -m pytest -n 2 "$@"
