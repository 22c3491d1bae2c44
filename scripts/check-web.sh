#!/usr/bin/env bash
# Type-checks the browser studio (Public/assets/*.js, plain ES modules with // @ts-check + JSDoc)
# with Debian's node-typescript (`apt-get install node-typescript`), strict mode, no emit; then checks that no
# function is longer than 120 lines (scripts/check-function-length.py).
set -euo pipefail
cd "$(dirname "$0")/.."
TSC="${TSC:-tsc}"
if ! command -v "$TSC" >/dev/null 2>&1; then
  echo "check-web: '$TSC' not found (install Debian's node-typescript or set TSC=...)" >&2
  exit 2
fi
# Every module must opt in to checking.
missing=0
for f in Public/assets/*.js; do
  if [ "$(head -n1 "$f")" != "// @ts-check" ]; then
    echo "check-web: $f does not start with // @ts-check" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 1
"$TSC" --checkJs --noEmit -p tsconfig.json
# No function over 120 lines (split long closures into parts in files named after them).
python3 scripts/check-function-length.py --max 120
echo "check-web: OK ($("$TSC" --version))"
