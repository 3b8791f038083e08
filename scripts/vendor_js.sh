#!/usr/bin/env bash
# Re-vendor the pinned front-end files from the npm registry into src/tenglong/web/static/vendor/.
# Record the printed sha256 sums in static/vendor/VERSIONS.md (tests/web/test_headers.py checks them).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/tenglong/web/static/vendor
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack htmx.org@2.0.11 echarts@6.1.0 swagger-ui-dist@5.35.0 >/dev/null)
tar -xzf "$tmp/htmx.org-2.0.11.tgz" -C "$tmp" && cp "$tmp/package/dist/htmx.min.js" "$dest/" && rm -rf "$tmp/package"
tar -xzf "$tmp/echarts-6.1.0.tgz" -C "$tmp" && cp "$tmp/package/dist/echarts.min.js" "$dest/" && cp "$tmp/package/LICENSE" "$dest/echarts.LICENSE" && rm -rf "$tmp/package"
tar -xzf "$tmp/swagger-ui-dist-5.35.0.tgz" -C "$tmp"
cp "$tmp/package/swagger-ui-bundle.js" "$tmp/package/swagger-ui.css" "$tmp/package/swagger-ui-bundle.js.LICENSE.txt" "$dest/"
cp "$tmp/package/favicon-32x32.png" "$dest/swagger-ui-favicon-32x32.png"
cp "$tmp/package/LICENSE" "$dest/swagger-ui.LICENSE" && cp "$tmp/package/NOTICE" "$dest/swagger-ui.NOTICE"
sha256sum "$dest"/*.js "$dest"/*.css "$dest"/*.png
