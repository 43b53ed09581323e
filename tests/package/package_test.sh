#!/usr/bin/env bash
# Inspects the Debian package without installing it: its file list, its control data, its conffiles,
# its maintainer scripts and `systemd-analyze verify` on the units it carries.
#   package_test.sh --version VERSION (--build DIR | --deb FILE) [--work DIR]
# With --build, the package is built first (scripts/package --build DIR) into WORK/out. Every failed
# check prints "FAIL [check] what"; the exit status is 1 if any failed.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/../.." && pwd)

version='' build='' deb='' work=''
while [ $# -gt 0 ]; do
    case $1 in
        --version) version=$2; shift 2 ;;
        --build) build=$(cd "$2" && pwd); shift 2 ;;
        --deb) deb=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "package_test.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$version" ] || { echo "package_test.sh: --version is required" >&2; exit 2; }
[ -n "$build$deb" ] || { echo "package_test.sh: --build DIR or --deb FILE is required" >&2; exit 2; }

failures=0
fail() { echo "FAIL [$1] ${*:2}"; failures=$((failures + 1)); }

for tool in dpkg-deb dpkg systemd-analyze readelf; do
    command -v "$tool" >/dev/null || { echo "FAIL [tools] $tool is not installed (scripts/setup installs it)"; exit 1; }
done

if [ -z "$work" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
rm -rf "$work/root" "$work/control" "$work/units"
mkdir -p "$work"
if [ -z "$deb" ]; then
    deb=$("$source_dir/scripts/package" --build "$build" --output "$work/out") ||
        { echo "FAIL [build] scripts/package --build $build failed (its output is above)"; exit 1; }
fi
[ -f "$deb" ] || { echo "FAIL [build] no package at '$deb'"; exit 1; }
echo "inspecting $deb"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
root=$work/root

# --- the file name and the control fields ---
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "nhpush_${version}_${arch}.deb" ] ||
    fail name "the file is $(basename "$deb"), not nhpush_${version}_${arch}.deb"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = nhpush ] || fail control "Package is '$(field Package)', not nhpush"
[ "$(field Version)" = "$version" ] || fail control "Version is '$(field Version)', not the project's $version"
[ "$(field Architecture)" = "$arch" ] || fail control "Architecture is '$(field Architecture)', not $arch"
[[ "$(field Maintainer)" == *?\<*@*\> ]] || fail control "Maintainer '$(field Maintainer)' is not 'Name <address>'"
[ -n "$(field Description)" ] || fail control "Description is empty"
depends=$(field Depends)
depended_on=$(echo "$depends" | tr ',' '\n' | awk '{ print $1 }')  # the package names, one a line
for needed in systemd libc6 libssl3 libsystemd0 libnghttp2-14 libhiredis0.14 libisal2 libjemalloc2 libstdc++6; do
    grep -qxF "$needed" <<<"$depended_on" || fail control "Depends does not name $needed: $depends"
done

# --- the file list: exactly these files, root-owned, nothing else (no /usr/local, no developer
# tools, nothing of the build tree) ---
expected_files="etc/nhpush/nhpushd.toml
lib/systemd/system/nhpushd.service
lib/systemd/system/nhpushd.socket
usr/bin/nhpush
usr/bin/nhpushd
usr/lib/sysusers.d/nhpush.conf
usr/share/doc/nhpush/configuration.md
usr/share/doc/nhpush/copyright
usr/share/doc/nhpush/examples/nhpushd.example.toml
usr/share/doc/nhpush/operations.md
usr/share/doc/nhpush/submission-api.md"
actual_files=$(cd "$root" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort)
missing=$(LC_ALL=C comm -23 <(echo "$expected_files") <(echo "$actual_files"))
unexpected=$(LC_ALL=C comm -13 <(echo "$expected_files") <(echo "$actual_files"))
[ -z "$missing" ] || fail files "missing: ${missing//$'\n'/ }"
[ -z "$unexpected" ] || fail files "not expected: ${unexpected//$'\n'/ }"
not_root=$(dpkg-deb -c "$deb" | awk '$2 != "root/root" { print $6 }')
[ -z "$not_root" ] || fail files "not owned by root: ${not_root//$'\n'/ }"
for program in usr/bin/nhpushd usr/bin/nhpush; do
    [ -x "$root/$program" ] || { fail binaries "/$program is not executable"; continue; }
    ! readelf -d "$root/$program" | grep -Eq 'RPATH|RUNPATH' || fail binaries "/$program has an RPATH/RUNPATH"
    ! readelf -S "$root/$program" | grep -q '\.symtab' || fail binaries "/$program is not stripped"
done
leaks=$(cd "$root" && { grep -rlF -e "$source_dir" ${build:+-e "$build"} etc lib usr/lib usr/share || true; })
[ -z "$leaks" ] || fail files "name the source or build tree: ${leaks//$'\n'/ }"
cmp -s "$root/etc/nhpush/nhpushd.toml" "$source_dir/config/nhpushd.example.toml" ||
    fail files "/etc/nhpush/nhpushd.toml is not config/nhpushd.example.toml"

# --- conffiles and maintainer scripts ---
if [ "$(cat "$work/control/conffiles" 2>/dev/null)" != /etc/nhpush/nhpushd.toml ]; then
    fail conffiles "conffiles is not exactly /etc/nhpush/nhpushd.toml: '$(cat "$work/control/conffiles" 2>/dev/null)'"
fi
for script in postinst prerm postrm; do
    file=$work/control/$script
    [ -x "$file" ] || { fail scripts "$script is missing or not executable"; continue; }
    sh -n "$file" 2>&1 || fail scripts "$script does not parse (sh -n)"
    grep -qx 'set -e' "$file" || fail scripts "$script does not 'set -e'"
done

# --- the units, checked by systemd itself ---
# systemd-analyze verify checks that every Exec*= program exists: copies of the units have the packaged
# programs (/usr/bin/...) prefixed with the extracted tree, so they are checked as shipped; commands
# from the system (/bin/kill) stay as they are. verify exits 0 on warnings ("…, ignoring"), so any
# output is a failure too.
mkdir -p "$work/units"
for unit in nhpushd.service nhpushd.socket; do
    sed "s|^\(Exec[A-Za-z]*=[-@:+!]*\)/usr/bin/|\1$root/usr/bin/|" "$root/lib/systemd/system/$unit" >"$work/units/$unit"
done
if ! verify_output=$(systemd-analyze verify "$work/units/nhpushd.service" "$work/units/nhpushd.socket" 2>&1) ||
    [ -n "$verify_output" ]; then
    fail units "systemd-analyze verify: $verify_output"
fi
grep -qx "ExecStart=/usr/bin/nhpushd --config /etc/nhpush/nhpushd.toml" "$root/lib/systemd/system/nhpushd.service" ||
    fail units "nhpushd.service does not start /usr/bin/nhpushd with /etc/nhpush/nhpushd.toml"

if [ "$failures" -gt 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
