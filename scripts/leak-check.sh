#!/usr/bin/env bash
# leak-check.sh — LeakSanitizer over every command of frost and over its interface (make leaks): each
# run once on small inputs by a frost built with SANITIZE=address,undefined, each with the exit
# status it must have. A leak or any other sanitizer report fails it, and so does a command that
# ends otherwise than it should (a train that failed early proves nothing about leaks).
#
# Nothing is suppressed: libtorch's process-lifetime allocations (its operator registry, thread
# pools) stay reachable from its globals, so LeakSanitizer does not report them; every report is one.
# Each sanitizer ends frost with its own exit status (tests/sanitizers/exit_status.h, built in):
# AddressSanitizer 81, UndefinedBehaviorSanitizer 82, LeakSanitizer 84.
# Downloads come from a server on 127.0.0.1 (FROST_WEIGHTS_MIRROR); the caches are a scratch folder.
#
#   scripts/leak-check.sh FROST_BINARY
set -euo pipefail
FROST=$(realpath "${1:?usage: scripts/leak-check.sh FROST_BINARY}")
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
unset LSAN_OPTIONS UBSAN_OPTIONS
TMP=$(mktemp -d)
SOCK=frost-leaks-$$
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
export XDG_CACHE_HOME=$TMP/cache TORCH_HOME=$TMP/torch HF_HOME=$TMP/hf
# the run history in the scratch folder too, on: the training runs below are recorded, and read back
# by the runs commands
export XDG_DATA_HOME=$TMP/share FROST_RUNS=1
unset HF_HUB_CACHE
fail=0
count=0

# report NAME OUTPUT_FILE STATUS WANT: one line, and the sanitizer's report or the output's end.
report() {
    local name=$1 out=$2 rc=$3 want=$4
    count=$((count + 1))
    if [[ $rc -eq 84 ]] || grep -q "ERROR: LeakSanitizer" "$out"; then
        echo "LEAK  $name (exit $rc)"
        grep -A16 "Sanitizer" "$out" | head -60
        fail=1
    elif [[ $rc -eq 81 || $rc -eq 82 ]] || grep -q -e "Sanitizer" -e ": runtime error: " "$out"; then
        echo "ERROR $name (exit $rc: a sanitizer's report)"
        grep -B2 -A16 -e "Sanitizer" -e ": runtime error: " "$out" | head -60
        fail=1
    elif [[ $rc -ne $want ]]; then
        echo "FAIL  $name: exit $rc, expected $want"
        tail -5 "$out"
        fail=1
    else
        echo "ok    $name (exit $rc)"
    fi
}

# run WANT ARGS...: frost ARGS must exit WANT, without a sanitizer report.
run() {
    local want=$1 rc=0
    shift
    "$FROST" "$@" >"$TMP/out" 2>&1 || rc=$?
    report "frost $*" "$TMP/out" "$rc" "$want"
}

# a weights file served the way the Hugging Face hub serves one (its sha256 in X-Linked-Etag)
serve_weights() {
    mkdir -p "$TMP/www"
    head -c 3000000 /dev/urandom >"$TMP/www/model.safetensors"
    /usr/bin/python3 - "$TMP/www/model.safetensors" "$TMP/port" <<'EOF' &
import hashlib, http.server, sys
path, port_file = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
sha = hashlib.sha256(data).hexdigest()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if not self.path.endswith('/vgg11.tv_in1k/resolve/main/model.safetensors'):
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-Linked-Etag', '"%s"' % sha)
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(port_file, 'w').write(str(s.server_port))
s.serve_forever()
EOF
    SERVER_PID=$!
    for _ in $(seq 100); do [[ -s $TMP/port ]] && break; sleep 0.1; done
    export FROST_WEIGHTS_MIRROR=http://127.0.0.1:$(cat "$TMP/port")
}

# the interface in tmux: every screen, weights that cannot be had, a short training run, the
# evaluation, then q
interface() {
    local rc_file=$TMP/ui.rc err=$TMP/ui.err
    # a report while the interface draws would go to the stderr it holds back, and die with it: the
    # sanitizers write theirs to files beside err instead
    tmux -L "$SOCK" new-session -d -s ui -x 140 -y 45 \
        "ASAN_OPTIONS=$ASAN_OPTIONS:log_path='$err.asan' UBSAN_OPTIONS=log_path='$err.ubsan' \
         XDG_CONFIG_HOME='$TMP/no-config' FROST_WEIGHTS_MIRROR=http://127.0.0.1:9 \
         '$FROST' sample_data --json '$TMP/ui.jsonl' 2>'$err'; echo \$? >'$rc_file'"
    wait_for() {
        for _ in $(seq $(($2 * 10))); do
            tmux -L "$SOCK" capture-pane -p -t ui 2>/dev/null | grep -q -- "$1" && return 0
            sleep 0.1
        done
        echo "FAIL  the interface never showed '$1':"
        tmux -L "$SOCK" capture-pane -p -t ui 2>/dev/null | tail -20
        return 1
    }
    keys() { tmux -L "$SOCK" send-keys -t ui "$@"; }
    local ok=1
    wait_for "3 classes" 120 || ok=0
    ((ok)) && keys 2 && wait_for "trainable" 120 || ok=0
    ((ok)) && keys 3 && wait_for "learning rate" 60 || ok=0
    # 1 epoch, 64x64
    ((ok)) && keys Down Left Left Left Down Down Down Down Left Left Left && wait_for "input size     64x64" 30 || ok=0
    # ImageNet's weights by default: they cannot be had (nothing answers the mirror), so the field
    # falls back to none and the second Enter trains from random weights
    ((ok)) && keys Enter && wait_for "Enter trains from random ones instead" 120 || ok=0
    ((ok)) && keys Enter && wait_for "Training complete in" 600 || ok=0
    ((ok)) && keys x && wait_for "export the run as a PyTorch folder" 30 || ok=0
    ((ok)) && keys C-u "$TMP/tui-export" Enter && wait_for "exported " 120 || ok=0
    ((ok)) && keys 4 && wait_for "top 3" 120 || ok=0
    ((ok)) && keys e && wait_for "confusion matrix" 300 || ok=0
    ((ok)) && keys Tab g && wait_for "from layer4" 120 || ok=0
    keys q 2>/dev/null || true
    for _ in $(seq 600); do [[ -s $rc_file ]] && break; sleep 0.1; done
    local rc=99
    [[ -s $rc_file ]] && rc=$(cat "$rc_file")
    ((ok)) || rc=98
    cat "$err".*san.* >>"$err" 2>/dev/null || true
    report "frost sample_data (the interface: every screen, a training run, an evaluation)" "$err" "$rc" 0
}

echo "LeakSanitizer over every command ($FROST)"
run 0 help
run 0 help --man
run 0 help --completion bash
run 0 help --completion zsh
run 2 help --completion fish
run 0 --version
run 0 print resnet18
run 0 print vgg11 --classes 2
run 0 summary resnet18 --classes 3 --size 64
run 0 summary resnet18 --classes 3 --size 32 --cost --trainable layer4,fc --batch 4 --data sample_data
run 0 doctor sample_data
# the user's config file, with a mistake in it (said on stderr; the command goes on)
mkdir -p "$TMP/cfg/frost"
printf 'arch = resnet18\ncolour = red\nworkers = 1\ndevice = cpu\n' >"$TMP/cfg/frost/config"
export XDG_CONFIG_HOME=$TMP/cfg
run 0 doctor sample_data
run 0 summary resnet18 --classes 3 --size 32 --cost
unset XDG_CONFIG_HOME
run 1 doctor /nonexistent
run 0 bench-data sample_data --size 64
run 0 bench-data sample_data --size 48 --crop --resize fast --norm imagenet
run 0 bench-forward resnet18 --images 8 --size 32 --batch 4
run 0 train sample_data --arch resnet18 --epochs 1 --size 32 --save "$TMP/ck.safetensors" --json "$TMP/log.jsonl"
run 0 train sample_data --arch resnet18 --epochs 1 --size 32 --optimizer sgd --momentum 0.9 --weight-decay 1e-4 \
    --bn train --trainable layer4,fc --cache off --crop --layer-report --measure-every 2
run 0 train sample_data --arch resnet18 --epochs 2 --size 32 --resume "$TMP/ck.safetensors"
run 0 train sample_data --arch resnet18 --size 32 --plan head:1,last1:2 --epochs 2 --schedule one-cycle \
    --block-lr spread:10 --class-weights auto --save "$TMP/plan.safetensors"
run 0 train sample_data --arch resnet18 --size 32 --resume "$TMP/plan.safetensors"
run 0 runs
run 0 runs --json --arch resnet18 --status completed
run 0 runs show 1
run 0 runs diff 1 2
run 0 runs again 2
run 0 runs export --csv "$TMP/runs.csv" --epochs
run 0 runs rm 2
run 1 runs show 2
run 1 lr-find sample_data --arch resnet18 --size 32 --steps 40 --trainable all --json "$TMP/find.jsonl"
run 2 train sample_data --arch resnet18 --plan head:1,bogus!
run 0 predict "$TMP/ck.safetensors" sample_data/valid --top 2
run 0 predict "$TMP/ck.safetensors" sample_data/valid/circles/circle_000.jpg --json
run 0 export "$TMP/plan.safetensors" --pytorch "$TMP/ex" --onnx "$TMP/m.onnx"
run 1 export "$TMP/plan.safetensors" --pytorch "$TMP/ex"
run 0 export "$TMP/ck.safetensors" --onnx "$TMP/m.onnx" --opset 11 --force
run 1 export "$TMP/log.jsonl" --onnx "$TMP/bad.onnx"
run 0 predict "$TMP/ck.safetensors" sample_data/valid/circles/circle_000.jpg --cam "$TMP/cam.png" --json
cp -r sample_data "$TMP/ds"
run 0 clean "$TMP/ds" --relabel "$TMP/ds/valid/circles/circle_000.jpg" squares
run 0 clean "$TMP/ds" --set-aside "$TMP/ds/valid/squares/square_000.jpg"
run 0 clean "$TMP/ds" --list
run 0 clean "$TMP/ds" --undo
run 1 clean "$TMP/ds" --relabel "$TMP/ds/valid/circles/nothing.jpg" squares
run 0 weights list
run 0 weights check "$TMP/ck.safetensors"
run 1 weights check "$TMP/log.jsonl"
serve_weights
run 0 weights fetch vgg11 --source timm
run 0 weights path vgg11 --source timm
run 1 weights path resnet50
run 1 print resnet18 --weights /nonexistent.safetensors
run 2 train sample_data --arch resnet18 --epochs zero
run 2 no-such-command
interface
echo "$count runs"
exit $fail
