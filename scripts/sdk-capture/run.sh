#!/usr/bin/env bash
# Regenerates the SDK wire captures the parity tests compare against:
#   tests/fixtures/operations/wire/js-sdk-<version>-surface.jsonl
#   tests/fixtures/operations/wire/py-sdk-<version>-surface.jsonl
# Installs @upstash/qstash (npm) and qstash (PyPI) under target/sdk-capture,
# outside the crate's sources; needs node, npm and python3. Tests never run
# this: they read the checked-in fixtures.
set -euo pipefail

JS_VERSION="${JS_VERSION:-2.12.0}"
PY_VERSION="${PY_VERSION:-3.4.0}"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$repo/target/sdk-capture"
out="$repo/tests/fixtures/operations/wire"
mkdir -p "$work"

cd "$work"
[ -f package.json ] || npm init -y >/dev/null
npm install --no-audit --no-fund --silent "@upstash/qstash@$JS_VERSION"
cp "$repo/scripts/sdk-capture/capture.mjs" "$work/capture.mjs"
node capture.mjs >"$out/js-sdk-$JS_VERSION-surface.jsonl"

[ -x venv/bin/python ] || python3 -m venv venv
venv/bin/pip install --quiet "qstash==$PY_VERSION"
venv/bin/python "$repo/scripts/sdk-capture/capture.py" >"$out/py-sdk-$PY_VERSION-surface.jsonl"

wc -l "$out"/*-surface.jsonl
