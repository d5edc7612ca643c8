#!/usr/bin/env bash
# test-leftovers.sh RUN_ID — after the test suite: every process that still carries FROST_TEST_RUN=RUN_ID
# in its environment (the suite gives it to everything it starts: frost, tmux servers, their shells) is
# one the suite failed to end. Processes on their way out get 15 s; what is left then is listed and
# ended, and the exit status is 1. 0 when there are none.
set -u
id=${1:?usage: test-leftovers.sh RUN_ID}

scan() {
    left=()
    for env in /proc/[0-9]*/environ; do
        local pid=${env#/proc/}
        pid=${pid%/environ}
        [[ $pid == "$$" || $pid == "$PPID" ]] && continue
        grep -qszx "FROST_TEST_RUN=$id" "$env" 2>/dev/null || continue
        # a zombie has nothing left to end (its parent reaps it)
        local state
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)
        [[ -z $state || $state == Z ]] || left+=("$pid")
    done
}

for _ in $(seq 30); do
    scan
    [[ ${#left[@]} -eq 0 ]] && exit 0
    sleep 0.5
done
echo "test-leftovers: ${#left[@]} process(es) outlived the test suite:" >&2
ps -o pid=,args= -p "$(IFS=,; echo "${left[*]}")" >&2
kill "${left[@]}" 2>/dev/null
sleep 1
kill -9 "${left[@]}" 2>/dev/null
exit 1
