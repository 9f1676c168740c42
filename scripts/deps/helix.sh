#!/usr/bin/env bash
# Installs a real Helix 25.01 for the end-to-end test (tests/e2e_helix.rs), without touching the
# system's apt configuration: the machine's Debian release has no Helix package, so `hx` and the
# libc it needs come from Debian's trixie suite, downloaded with apt into a folder of their own and
# unpacked there. Helix then runs through trixie's loader (the `bin/hx` wrapper written here).
#
# Installs into ${AUGUR_HELIX_DIR:-$HOME/.cache/augur/helix}; idempotent and quiet when Helix is
# already there. Needs apt-get and dpkg-deb (Debian or a derivative) and the Debian mirror.
set -euo pipefail
dest="${AUGUR_HELIX_DIR:-$HOME/.cache/augur/helix}"
wrapper="$dest/bin/hx"
if [ -x "$wrapper" ] && "$wrapper" --version 2>/dev/null | grep -q '^helix 25\.01'; then
  exit 0
fi
for tool in apt-get dpkg-deb; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "scripts/deps/helix.sh: $tool is needed (Helix comes from Debian's trixie packages)." >&2
    exit 1
  fi
done
# The machine's Debian mirror, else the main one.
mirror=""
for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
  if [ -z "$mirror" ] && [ -r "$file" ]; then
    mirror="$(grep -v '^[[:space:]]*#' "$file" | grep -oE 'https?://[^ ]*/debian/?' | head -n 1 || true)"
  fi
done
mirror="${mirror:-http://deb.debian.org/debian}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
work="$dest.tmp"
rm -rf "$work"
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs" "$work/root"
if [ -r "$keyring" ]; then
  echo "deb [signed-by=$keyring] $mirror trixie main" >"$work/apt/sources.list"
else
  echo "deb $mirror trixie main" >"$work/apt/sources.list"
fi
apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o "Dir::Etc::SourceParts=-"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
  -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)" -qq)
echo "scripts/deps/helix.sh: downloading Helix 25.01 from Debian trixie into $dest" >&2
apt-get "${apt_opts[@]}" update >/dev/null
if ! (cd "$work/debs" && apt-get "${apt_opts[@]}" download hx libc6/trixie libgcc-s1/trixie >/dev/null); then
  echo "scripts/deps/helix.sh: could not download hx, libc6 and libgcc-s1 from $mirror (trixie)." >&2
  exit 1
fi
for deb in "$work"/debs/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done
libs="$work/root/usr/lib/x86_64-linux-gnu"
if [ ! -x "$work/root/usr/bin/hx" ] || [ ! -e "$libs/ld-linux-x86-64.so.2" ]; then
  echo "scripts/deps/helix.sh: the trixie packages did not hold hx and its loader (see $work)." >&2
  exit 1
fi
rm -rf "$dest"
mkdir -p "$dest/bin"
mv "$work/root" "$dest/root"
rm -rf "$work"
cat >"$wrapper" <<'WRAPPER'
#!/bin/sh
# Helix 25.01 from Debian trixie, run through trixie's loader and libc (scripts/deps/helix.sh).
here="$(cd "$(dirname "$0")/.." && pwd)"
libs="$here/root/usr/lib/x86_64-linux-gnu"
export HELIX_RUNTIME="${HELIX_RUNTIME:-$here/root/usr/lib/hx/runtime}"
exec "$libs/ld-linux-x86-64.so.2" --library-path "$libs" "$here/root/usr/bin/hx" "$@"
WRAPPER
chmod +x "$wrapper"
"$wrapper" --version >/dev/null
