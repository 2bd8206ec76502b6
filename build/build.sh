#!/usr/bin/env bash
# `make build`: the station agent as a one-folder app in build/out/lta-agent/,
# and the Linux package IT copies to a station: build/out/lta-agent-<version>-
# linux-<arch>.tar.gz (the app, install.sh and the systemd unit). Why one folder:
# docs/decisions/0009-packaging.md. Prints the size of both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
OUT=build/out
rm -rf "$OUT/lta-agent"
"$BIN/pyinstaller" --noconfirm --log-level WARN --distpath "$OUT" --workpath build/work \
    build/lta-agent.spec

# What the agent never imports must not be in the bundle (spec: EXCLUDES).
toc=build/work/lta-agent/PYZ-00.toc
for module in central scipy pytest _pytest hypothesis playwright psycopg pgserver; do
    if grep -q "('${module}[.']" "$toc" || [ -e "$OUT/lta-agent/_internal/$module" ]; then
        echo "build: $module is in the bundle; add it to EXCLUDES in build/lta-agent.spec" >&2
        exit 1
    fi
done

version="$("$OUT/lta-agent/lta-agent" --version | awk '{print $2}')"
package="lta-agent-$version-linux-$(uname -m)"
stage="build/work/$package"
rm -rf "$stage"
mkdir -p "$stage"
cp -a "$OUT/lta-agent" "$stage/lta-agent"
cp installer/linux/install.sh installer/linux/lta-agent.service "$stage/"
cp docs/install.md "$stage/" 2>/dev/null || true
tar -C build/work -czf "$OUT/$package.tar.gz" "$package"
rm -rf "$stage"

app_mb="$(du -sm "$OUT/lta-agent" | cut -f1)"
llvm_mb="$(du -sm "$OUT/lta-agent/_internal/llvmlite" | cut -f1)"
tar_mb="$(du -sm "$OUT/$package.tar.gz" | cut -f1)"
echo "build: $OUT/lta-agent/ $app_mb MB (llvmlite $llvm_mb MB); $OUT/$package.tar.gz $tar_mb MB"
