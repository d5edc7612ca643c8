#!/usr/bin/env bash
# fresh-check.sh — the README's two commands on a bare Debian, run first, as a new user meets them.
#
#   scripts/fresh-check.sh        (make fresh-check; as root)   DEBIAN=bookworm (default) or trixie
#   scripts/fresh-check.sh --bare-root     only makes the cached bare root (step 1) when it is missing:
#                 .ci/run makes both releases' in the background while the suites use the cores (it
#                 is network and disk work), so that the checks themselves start from the cache
#
# CI runs on a machine where every package is installed already, so it cannot see a broken first run;
# this does. In a bare root made by mmdebstrap (--variant=apt, plus build-essential, git and
# ca-certificates: what a new user has) it clones HEAD, copies ../shared beside the clone and runs, as
# root, exactly what the README says:
#
#   make run      in tmux: the Data screen appears, q quits, and the shell after it answers with the
#                 terminal in its usual mode (stty: echo and line editing on)
#   make test     TEST_SET=fresh: a subset that touches every test folder and every outside program
#                 the suite uses (Makefile, README: Tests); FRESH_TEST_SET=all for the whole suite
#   make install  into a DESTDIR, then the installed frost --version and frost help
#
# Each step's time is printed; the first step that fails stops the check with its last lines.
#
# The root's packages come from this machine's own apt sources (/etc/apt/sources.list and
# sources.list.d/*.list, *.sources: its Debian entries, the suite put in for the release asked for), so
# no mirror is named here. The root trusts this machine's certificate authorities (copied in, and
# NODE_EXTRA_CA_CERTS names the bundle for npm), so the package registries answer as they do here.
# The bare root is cached as a tarball (build/fresh/DEBIAN.tar: mmdebstrap's output and nothing else;
# made again when the sources or the package list change); what make installs into it never is.
# proc, dev and sys are mounted into the root while it is used and unmounted on every way out.
#
# Variables: DEBIAN, FRESH_TEST_SET (default fresh), FRESH_KEEP=1 (keep the root afterwards, for a
# look inside: build/fresh/root-DEBIAN), FRESH_RUN_TIMEOUT (seconds for make run to reach the Data
# screen, default 3600), FRESH_REFRESH=1 (make the bare root again).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

DEBIAN=${DEBIAN:-bookworm}
case $DEBIAN in bookworm | trixie) ;; *)
    echo "fresh-check: DEBIAN is bookworm or trixie, not '$DEBIAN'" >&2
    exit 2
    ;;
esac
ONLY_ROOT=
case ${1:-} in
"") ;;
--bare-root) ONLY_ROOT=1 ;;
*)
    echo "fresh-check: unknown argument '$1' (--bare-root, or none)" >&2
    exit 2
    ;;
esac
TEST_SET=${FRESH_TEST_SET:-fresh}
RUN_TIMEOUT=${FRESH_RUN_TIMEOUT:-3600}
if [[ $(id -u) -ne 0 ]]; then
    echo "fresh-check: run it as root (mmdebstrap makes the root, chroot runs in it)" >&2
    exit 2
fi

work=$repo/build/fresh
root=$work/root-$DEBIAN
tar_file=$work/$DEBIAN.tar
sock=frost-fresh-$$
mkdir -p "$work"

# ---------------------------------------------------------------------------------------------
# steps: timed, and the first failure stops everything with its last lines

t_all=$(date +%s)
summary=()
step() {   # step NAME LOG COMMAND...: runs COMMAND with its output in LOG
    local name=$1 log=$2
    shift 2
    printf '\n=== fresh-check %s: %s\n' "$DEBIAN" "$name"
    local t0=$SECONDS rc=0
    # in the background and waited for: a function called as `f || ...` runs with set -e off, and
    # a step's first failing command must end it
    "$@" > "$log" 2>&1 &
    wait $! || rc=$?
    local took=$((SECONDS - t0))
    summary+=("$(printf '%-34s %5d s' "$name" "$took")")
    if [[ $rc -ne 0 ]]; then
        echo "fresh-check $DEBIAN: '$name' failed (exit $rc) after $took s; its last lines ($log):" >&2
        tail -n 60 "$log" >&2
        exit 1
    fi
    echo "$name: $took s"
}

mounted=()
cleanup() {
    local rc=$?
    tmux -L "$sock" kill-server 2> /dev/null || true
    # what was mounted into the root, innermost first
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount -R "${mounted[i]}" 2> /dev/null || umount -l "${mounted[i]}" 2> /dev/null || true
    done
    if [[ -d $root && -z ${FRESH_KEEP:-} ]]; then
        if mount | grep -q " $root/"; then
            echo "fresh-check: something is still mounted in $root; left as it is" >&2
        else
            rm -rf "$root"
        fi
    fi
    if [[ ${#summary[@]} -gt 0 ]]; then
        printf '\nfresh-check %s, step times:\n' "$DEBIAN"
        printf '  %s\n' "${summary[@]}"
        printf '  %-34s %5d s\n' "total" $(($(date +%s) - t_all))
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# mmdebstrap and tmux, on this machine
scripts/install-deps.sh fresh

# ---------------------------------------------------------------------------------------------
# this machine's apt sources, for DEBIAN: one-line entries of its Debian suites

host_codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $host_codename ]] || { echo "fresh-check: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }

# "bookworm-security" for trixie: "trixie-security"; suites of other archives (not the release's) go
suite_for() {
    case $1 in
    "$host_codename") echo "$DEBIAN" ;;
    "$host_codename"-*) echo "$DEBIAN-${1#"$host_codename"-}" ;;
    esac
}

# every "deb" entry of the machine, one-line ("deb [options] URI SUITE COMPONENTS...")
all_entries() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] && sed 's/#.*//' "$f" | awk '$1 == "deb"'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        # deb822 stanzas: Types, URIs, Suites, Components, Signed-By (a file; an inline key is left
        # to the root's own keyring), Enabled
        awk -v RS= -F'\n' '
            {
                types = uris = suites = comps = signed = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^#/ || line ~ /^[ \t]/) continue
                    key = tolower(substr(line, 1, index(line, ":") - 1))
                    value = substr(line, index(line, ":") + 1)
                    gsub(/^[ \t]+|[ \t]+$/, "", value)
                    if (key == "types") types = value
                    else if (key == "uris") uris = value
                    else if (key == "suites") suites = value
                    else if (key == "components") comps = value
                    else if (key == "signed-by" && value ~ /^\//) signed = value
                    else if (key == "enabled") enabled = tolower(value)
                }
                if (enabled == "no") next
                nt = split(types, T, " "); nu = split(uris, U, " "); ns = split(suites, S, " ")
                for (a = 1; a <= nt; a++) for (b = 1; b <= nu; b++) for (c = 1; c <= ns; c++)
                    if (T[a] == "deb") print "deb", (signed ? "[signed-by=" signed "] " : "") U[b], S[c], comps
            }' "$f"
    done
}

# those of the machine's own release, for DEBIAN
one_line_sources() {
    local type rest opts uri suite comps
    all_entries | while read -r type rest; do
        opts=""
        if [[ $rest == \[* ]]; then
            opts="${rest%%]*}] "
            rest=${rest#*]}
        fi
        read -r uri suite comps <<< "$rest"
        suite=$(suite_for "$suite")
        [[ -n $suite ]] && echo "$type $opts$uri $suite $comps"
    done
}

mapfile -t sources < <(one_line_sources)
[[ ${#sources[@]} -gt 0 ]] || { echo "fresh-check: no Debian entries for $host_codename in this machine's apt sources" >&2; exit 1; }
printf 'fresh-check %s: apt sources\n' "$DEBIAN"
printf '  %s\n' "${sources[@]}"

# ---------------------------------------------------------------------------------------------
# 1. the bare root (cached): mmdebstrap's output, nothing installed into it since

PACKAGES=build-essential,git,ca-certificates
key=$(printf '%s\n' "$DEBIAN" "$PACKAGES" "${sources[@]}" | sha256sum | cut -c1-16)
make_root() {
    rm -rf "$tar_file.tmp"
    mmdebstrap --mode=root --variant=apt --format=tar --include="$PACKAGES" "$DEBIAN" "$tar_file.tmp" "${sources[@]}"
    mv "$tar_file.tmp" "$tar_file"
    echo "$key" > "$tar_file.key"
}
if [[ -n ${FRESH_REFRESH:-} || ! -f $tar_file || ! -s $tar_file || $(cat "$tar_file.key" 2> /dev/null) != "$key" ]]; then
    step "bare root (mmdebstrap)" "$work/$DEBIAN-mmdebstrap.log" make_root
else
    echo "fresh-check $DEBIAN: the bare root from $tar_file (made $(date -r "$tar_file" +%F))"
fi
[[ -z $ONLY_ROOT ]] || exit 0

# ---------------------------------------------------------------------------------------------
# 2. a fresh copy of it: this machine's certificate authorities, HEAD cloned, ../shared beside it

prepare() {
    if [[ -d $root ]]; then
        if mount | grep -q " $root/"; then
            echo "something is mounted in $root (an earlier check still running?)" >&2
            return 1
        fi
        rm -rf "$root"
    fi
    mkdir -p "$root"
    tar -xf "$tar_file" -C "$root"
    if compgen -G "/usr/local/share/ca-certificates/*" > /dev/null; then
        cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
    fi
    git clone -q "$repo" "$root/root/frost"
    git -C "$root/root/frost" log --oneline -1
    if [[ -d $repo/../shared ]]; then
        cp -a "$repo/../shared" "$root/root/shared"
    else
        echo "(no ../shared here: the root has none either)"
    fi
}
step "root ready (copy, CAs, clone)" "$work/$DEBIAN-prepare.log" prepare

mount_in() {   # mount_in ARGS... TARGET (inside the root)
    local target=${*: -1}
    mount "${@:1:$#-1}" "$root$target"
    mounted+=("$root$target")
}
mount_in -t proc proc /proc
mount_in --rbind /dev /dev
mount --make-rslave "$root/dev"
mount_in --rbind /sys /sys
mount --make-rslave "$root/sys"

# What a new user's shell has: no locale, no ccache, nothing of this machine's environment.
BUNDLE=/etc/ssl/certs/ca-certificates.crt
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        TERM="${TERM:-xterm}" NODE_EXTRA_CA_CERTS=$BUNDLE "$@"
}
step "root trusts this machine's CAs" "$work/$DEBIAN-certs.log" in_root update-ca-certificates

# ---------------------------------------------------------------------------------------------
# 3. make run, in tmux: the Data screen, q, a shell that answers with its terminal sane

pane() { tmux -L "$sock" capture-pane -p -t fresh "$@"; }
# wait_pane GOOD BAD SECONDS WHY: until the pane shows GOOD (grep patterns); when it shows BAD (in its
# history too) or SECONDS pass, it says WHY under the pane's last lines and fails
wait_pane() {
    local good=$1 bad=$2 limit=$3 why=$4 waited=0
    until pane | grep -q -- "$good"; do
        if pane -S -1000 | grep -q -- "$bad" || ((waited >= limit)); then
            pane -S -200
            echo "$why"
            return 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
    echo "($waited s)"
}
make_run() {
    local conf=$work/tmux-$DEBIAN.conf
    echo "set -g history-limit 20000" > "$conf"
    tmux -L "$sock" -f "$conf" new-session -d -s fresh -x 120 -y 40 \
        "chroot '$root' /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
         TERM=\$TERM NODE_EXTRA_CA_CERTS=$BUNDLE bash -c 'cd /root/frost && make run; echo \"make run exited \$?\"; \
         PS1=\"fresh-shell# \" exec bash --norc -i'"
    # the packages, the build, then the screen with the dataset read
    wait_pane '\[1 Data\]' 'make run exited' "$RUN_TIMEOUT" "no Data screen (in $RUN_TIMEOUT s)"
    wait_pane 'classes' 'make run exited' 120 "the Data screen did not read sample_data"
    pane
    tmux -L "$sock" send-keys -t fresh q
    wait_pane 'make run exited 0' 'make run exited [1-9]' 60 "q did not end make run with status 0"
    # the shell after it: it answers, and its terminal has echo and line editing (the words are split
    # so that the typed line itself cannot pass for the answer)
    tmux -L "$sock" send-keys -t fresh \
        "stty -a | grep -q -e -icanon -e ' -echo ' && echo 'terminal: r''aw' || echo 'terminal: s''ane'" Enter
    wait_pane '^terminal: sane' '^terminal: raw' 30 "the terminal after frost is not sane (or the shell does not answer)"
    pane
    tmux -L "$sock" kill-server
}
step "make run (packages, build, screen)" "$work/$DEBIAN-make-run.log" make_run

# ---------------------------------------------------------------------------------------------
# 4. make test, 5. make install and the installed program

step "make test TEST_SET=$TEST_SET" "$work/$DEBIAN-make-test.log" \
    in_root bash -c "cd /root/frost && make test TEST_SET=$TEST_SET"

installed() {
    in_root bash -c 'cd /root/frost && make install DESTDIR=/root/staged &&
        v=$(/root/staged/usr/local/bin/frost --version) && echo "$v" && [[ $v == "frost "* ]] &&
        /root/staged/usr/local/bin/frost help > /root/help.txt && head -n 3 /root/help.txt &&
        grep -q "^commands:" /root/help.txt'
}
step "make install, frost --version, help" "$work/$DEBIAN-make-install.log" installed
echo "fresh-check $DEBIAN: the README's commands work on a bare system"
