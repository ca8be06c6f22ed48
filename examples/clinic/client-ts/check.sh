#!/usr/bin/env bash
# Lints a generated OpenAPI document with redocly (recommended rules, see
# redocly.yaml) and type-checks a TypeScript client generated from it.
# Usage: check.sh path/to/openapi.json
set -euo pipefail
SPEC=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")"
export REDOCLY_TELEMETRY=off NO_UPDATE_NOTIFIER=1
if ! command -v npm >/dev/null; then
  echo "npm not found: install Node.js 20.19+ (apt-get install -y nodejs npm) to lint the OpenAPI document" >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npx --no-install redocly lint --config redocly.yaml --format stylish "$SPEC"
npx --no-install openapi-typescript "$SPEC" -o src/schema.d.ts
npx --no-install tsc --noEmit -p tsconfig.json
echo "openapi: lint and TypeScript type-check passed"
