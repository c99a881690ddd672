#!/usr/bin/env bash
# Vendors third-party front-end assets from the npm registry into the repository (no CDN at run time).
# Re-run with other versions to update: KERN_VERSION=2.8.0 AXE_VERSION=4.15.0 make vendor
set -euo pipefail
KERN_VERSION="${KERN_VERSION:-2.7.2}"
AXE_VERSION="${AXE_VERSION:-4.14.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "@kern-ux/native@${KERN_VERSION}" "axe-core@${AXE_VERSION}" >/dev/null
mkdir kern axe
tar xzf "kern-ux-native-${KERN_VERSION}.tgz" -C kern --strip-components=1
tar xzf "axe-core-${AXE_VERSION}.tgz" -C axe --strip-components=1

kern_dest="$root/static/vendor/kern"
rm -rf "$kern_dest" && mkdir -p "$kern_dest/fonts/fira-sans"
cp kern/dist/kern.min.css "$kern_dest/"
cp kern/dist/fonts/fira-sans.css "$kern_dest/fonts/"
# Only the font files the stylesheet refers to.
grep -oE 'fira-sans/[A-Za-z-]+\.woff2' kern/dist/fonts/fira-sans.css | sort -u | while read -r font; do
  cp "kern/dist/fonts/$font" "$kern_dest/fonts/$font"
done
cp kern/LICENSE.md "$kern_dest/LICENSE.md"
echo "@kern-ux/native ${KERN_VERSION} (EUPL-1.2), from the npm registry" > "$kern_dest/VERSION"

axe_dest="$root/tests/vendor/axe-core"
rm -rf "$axe_dest" && mkdir -p "$axe_dest"
cp axe/axe.min.js "$axe_dest/"
cp axe/LICENSE "$axe_dest/LICENSE"
echo "axe-core ${AXE_VERSION} (MPL-2.0), from the npm registry" > "$axe_dest/VERSION"
echo "vendored @kern-ux/native ${KERN_VERSION} and axe-core ${AXE_VERSION}"
