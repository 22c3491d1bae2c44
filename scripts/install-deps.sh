#!/usr/bin/env bash
# Installs the system packages Atelier needs (Debian, as root). Pass --test for what the tests need too.
set -euo pipefail
need=(libvips-dev pkg-config)
if [[ "${1:-}" == "--test" ]]; then
  need+=(postgresql chromium chromium-driver node-typescript python3-pip)
fi
missing=()
for package in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ "${1:-}" == "--test" ]]; then
  python3 -c 'import playwright, pytest, PIL, openai, moto.server, flask_cors, standardwebhooks, mcp, openapi_spec_validator, schemathesis' 2>/dev/null \
    || PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install -q --disable-pip-version-check \
      playwright pytest pillow openai==3.57.0 'moto[server]' standardwebhooks==1.1.0 mcp==2.3.0 openapi-spec-validator==0.9.0 schemathesis==4.32.5  # (Debian's own python3 is "externally managed")
fi
