#!/usr/bin/env bash
# Re-vendor the pinned front-end files from the npm registry into src/tenglong/web/static/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/tenglong/web/static/vendor
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack htmx.org@2.0.11 echarts@6.1.0 >/dev/null)
tar -xzf "$tmp/htmx.org-2.0.11.tgz" -C "$tmp" && cp "$tmp/package/dist/htmx.min.js" "$dest/" && rm -rf "$tmp/package"
tar -xzf "$tmp/echarts-6.1.0.tgz" -C "$tmp" && cp "$tmp/package/dist/echarts.min.js" "$dest/" && cp "$tmp/package/LICENSE" "$dest/echarts.LICENSE"
sha256sum "$dest"/*.js
