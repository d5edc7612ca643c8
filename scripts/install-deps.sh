#!/usr/bin/env bash
# install-deps.sh — makes sure the Debian packages frost needs are installed.
#
#   scripts/install-deps.sh build   what `make` needs to build frost
#   scripts/install-deps.sh test    that, plus what `make test` needs (Criterion, tmux,
#                                   python3-torchvision as the test oracle, groff and mandoc for the
#                                   manual, zsh for its completion script, procps: ps, pgrep, pkill,
#                                   sqlite3: the shell that reads the run history)
#   scripts/install-deps.sh fuzz    what `make fuzz` needs (clang, for libFuzzer)
#   scripts/install-deps.sh format  what `make format` and `make format-check` need (clang-format)
#   scripts/install-deps.sh fresh   what `make fresh-check` needs on this machine (mmdebstrap, tmux)
#
# Installs what is missing with apt-get when run as root; otherwise prints the exact apt-get line
# and exits 1. Checking is quick (one dpkg-query), so make may call it on every fresh build folder.
set -euo pipefail

# libopenblas0-openmp: Debian's libtorch does its matrix products (Linear layers: VGG's 120M-parameter
# head) through whatever libblas.so.3 the system points at, and without it that is netlib's reference
# BLAS, one thread and unoptimised: a VGG16 head's forward + backward took 83 s of a 184 s epoch on 2
# cores, 5 s with OpenBLAS (its OpenMP build shares libtorch's libgomp thread pool).
BUILD_PKGS=(gcc g++ make pkg-config binutils libtorch-dev libjansson-dev libturbojpeg0-dev
            libpng-dev libncurses-dev libcurl4-openssl-dev libssl-dev libzip-dev libopenblas0-openmp
            libonnx-dev protobuf-c-compiler libprotobuf-c-dev libsqlite3-dev gettext locales)
TEST_PKGS=(libcriterion-dev tmux python3-torchvision libjpeg-turbo-progs ncurses-term groff-base mandoc zsh
           python3-onnx nodejs procps sqlite3)
FUZZ_PKGS=(clang)
FORMAT_PKGS=(clang-format)
FRESH_PKGS=(mmdebstrap tmux)

# libsqlite3-dev: the run history (core/history/, $XDG_DATA_HOME/frost/runs.db); sqlite3, its shell,
# is the tests' independent reader of what frost stored there.
# gettext: msgfmt and xgettext make the translations (po/) at build time; locales: the build makes a
# zh_CN.UTF-8 locale of its own (localedef into build/) to write the Chinese manual page in, and the
# tests use it to see the interface in Chinese.
# libonnx-dev: ONNX's own schema (onnx.proto), compiled to C by protoc-c for `frost export --onnx`.
# python3-onnx (its checker) and nodejs (npm's onnxruntime-node, installed by make test) check exports.
case "${1:-build}" in
build) want=("${BUILD_PKGS[@]}") ;;
test) want=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
fuzz) want=("${BUILD_PKGS[@]}" "${FUZZ_PKGS[@]}") ;;
format) want=("${FORMAT_PKGS[@]}") ;;
fresh) want=("${FRESH_PKGS[@]}") ;;
*) echo "usage: $0 build|test|fuzz|format|fresh" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done
# npm comes with nodejs from some sources (nodesource) and as its own package from Debian
if [[ ${1:-build} == test ]] && ! command -v npm >/dev/null; then missing+=(npm); fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
    echo "frost needs these Debian packages: ${missing[*]}" >&2
    echo "install them with:  sudo $line" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends ${missing[*]}
