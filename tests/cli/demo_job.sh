#!/usr/bin/env bash
# Tests of the demonstration job (scripts/job.sh and examples/job/).
#
# 1. Runs scripts/job.sh against the build of the attest binary given and
#    checks each line it prints: the server and both workers accepted with
#    their policies, the token ids that the peers verified, the data
#    exchanged, and the modified worker rejected for its measurement.
# 2. With the functions of scripts/job.sh, starts a server through attest
#    exec and tries peers that must be rejected: a worker that presents the
#    server's token (a genuine token of the wrong application), a worker
#    that checks the server's token against the JWKS of another attestd,
#    and hostile frames. A valid worker then still completes the job.
# 3. Checks the review's cases, with tests/cli/job_peer.py as the hostile
#    peer where one is needed: one worker token used on two connections,
#    a worker facing a listener that is not the server, an idle connection
#    before the genuine workers, rejection text with escape sequences and
#    fake lines from either side, and a result longer than the vector sent.
#
# Usage: tests/cli/demo_job.sh BUILD/src/cli/attest
# Prints `ok - ...`/`not ok - ...` per check, then `N passed, N failed`.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$(dirname "${1:?usage: demo_job.sh PATH_TO_ATTEST}")/../.." && pwd)

# shellcheck source=scripts/job.sh disable=SC1091
source "$root/scripts/job.sh"

passed=0
failed=0

ok() {
    echo "ok - $*"
    passed=$((passed + 1))
}

not_ok() {
    echo "not ok - $*"
    failed=$((failed + 1))
}

# Records whether FILE has a line matching the extended regular expression.
expect_line() {
    local file=$1 regex=$2 name=$3
    if grep -Eq -- "$regex" "$file"; then
        ok "$name"
    else
        not_ok "$name: no line matches /$regex/ in:"
        sed 's/^/    /' "$file"
    fi
}

# Records whether FILE has no line matching the extended regular expression.
expect_no_line() {
    local file=$1 regex=$2 name=$3
    if grep -Eq -- "$regex" "$file"; then
        not_ok "$name: unexpected line $(grep -E -m1 -- "$regex" "$file")"
    else
        ok "$name"
    fi
}

expect_equal() {
    local actual=$1 expected=$2 name=$3
    if [ "$actual" = "$expected" ]; then
        ok "$name"
    else
        not_ok "$name: got \"$actual\", expected \"$expected\""
    fi
}

out=$(mktemp -d /tmp/attest-job-test-XXXXXX)
trap 'job_cleanup; rm -rf "$out"' EXIT

# ---- 1. the job as the README's main command runs it ----

ls -d /tmp/attest-job-?????? 2>/dev/null | sort >"$out/folders-before"
status=0
bash "$root/scripts/job.sh" "$build" >"$out/job.log" 2>&1 || status=$?
expect_equal "$status" 0 "job exits with 0"
expect_line "$out/job.log" \
    '^accepted  server    application job-server, policy job-server/1, TCB UpToDate, token jti [A-Za-z0-9_-]{22}$' \
    "job server accepted under job-server/1"
for name in worker-1 worker-2; do
    expect_line "$out/job.log" \
        "^accepted  $name  application job-worker, policy job-worker/1, TCB UpToDate, token jti [A-Za-z0-9_-]{22}\$" \
        "job $name accepted under job-worker/1"
done
expect_line "$out/job.log" \
    '^rejected  worker-3  modified attest-job-worker: check appraisal_measurement_not_allowed failed \(stage appraisal\).*it never started$' \
    "job modified worker rejected for its measurement"
expect_line "$out/job.log" '^exchange  worker-1: .* sent 1,2,3 and received 11,22,33$' \
    "job worker-1 exchanged data"
expect_line "$out/job.log" '^exchange  worker-2: .* sent 10,20,30 and received 11,22,33$' \
    "job worker-2 exchanged data"
expect_line "$out/job.log" '^job: passed' "job reports success"

# The token ids that each side verified are those that attestd issued.
server_jti=$(sed -n -E 's/^accepted  server .*token jti (.*)$/\1/p' "$out/job.log")
for name in worker-1 worker-2; do
    verified=$(sed -n -E "s/^exchange  $name: verified the server's token ([^,]*),.*/\\1/p" "$out/job.log")
    expect_equal "$verified" "$server_jti" "job $name verified the server's token id"
done
worker_jtis=$(sed -n -E 's/^accepted  worker-[12] .*token jti (.*)$/\1/p' "$out/job.log" | sort | paste -sd ' ')
server_verified=$(sed -n -E 's/^exchange  server: verified the worker tokens (.*) before any data.*/\1/p' \
    "$out/job.log" | tr ' ' '\n' | sort | paste -sd ' ')
expect_equal "$server_verified" "$worker_jtis" "job server verified both worker token ids"
left=$(comm -13 "$out/folders-before" <(ls -d /tmp/attest-job-?????? 2>/dev/null | sort))
expect_equal "$left" "" "job removes its temporary folder"

# ---- 2. peers that must be rejected, against one server ----

if ! job_setup "$build" || ! job_platform_init || ! job_service_start "$JOB_WORK/service-a" ||
    ! job_service_start "$JOB_WORK/service-b" ||
    ! job_application_register "$JOB_WORK/service-a" job-server "$JOB_SERVER_BIN" ||
    ! job_application_register "$JOB_WORK/service-a" job-worker "$JOB_WORKER_BIN"; then
    not_ok "set-up of two services for the rejection cases"
    echo "$passed passed, $failed failed"
    exit 1
fi
service=$JOB_WORK/service-a
url=$(cat "$service/url")
tls=(--service "$url" --cacert "$service/tls-cert.pem")

job_exec "$service" job-server "$out/server.jwt" "$JOB_SERVER_BIN" --workers 1 "${tls[@]}" \
    >"$out/server.log" 2>&1 &
server_pid=$!
JOB_PIDS+=("$server_pid")
if ! port=$(job_server_port "$out/server.log" "$server_pid"); then
    not_ok "server starts through attest exec"
    echo "$passed passed, $failed failed"
    exit 1
fi
ok "server starts through attest exec"

# a. A worker that presents the server's own token: genuine, but for job-server.
status=0
ATTEST_TOKEN_FILE=$out/server.jwt "$JOB_WORKER_BIN" --name impostor --connect "127.0.0.1:$port" \
    --data 5,5,5 "${tls[@]}" >"$out/impostor.log" 2>&1 || status=$?
expect_equal "$status" 1 "worker with the server's token exits with 1"
expect_line "$out/impostor.log" \
    '^worker impostor: the server rejected this worker: check sub failed: the token is for application "job-server", expected "job-worker"$' \
    "worker with the server's token is told the sub check failed"
expect_line "$out/server.log" \
    '^server: worker 127\.0\.0\.1:[0-9]+ rejected: check sub failed: the token is for application "job-server", expected "job-worker"$' \
    "server rejects a token of the wrong application"
expect_no_line "$out/impostor.log" '^worker impostor: sent' "worker with the server's token sends no data"

# b. An accepted worker that checks the server's token with the JWKS of another attestd.
other=$JOB_WORK/service-b
status=0
job_exec "$service" job-worker "$out/other.jwt" "$JOB_WORKER_BIN" --name other-jwks \
    --connect "127.0.0.1:$port" --data 7,7,7 --service "$url" \
    --jwks "$(cat "$other/url")/.well-known/jwks.json" --cacert "$other/tls-cert.pem" \
    >"$out/other.log" 2>&1 || status=$?
expect_equal "$status" 1 "worker with another service's JWKS exits with 1"
expect_line "$out/other.log" \
    "^worker other-jwks: server's token rejected: check token_kid_unknown failed" \
    "worker rejects the server's token under another JWKS"
expect_no_line "$out/other.log" '^worker other-jwks: sent' "worker with another JWKS sends no data"
expect_line "$out/server.log" \
    "^server: worker 127\\.0\\.0\\.1:[0-9]+ rejected the server's token: check token_kid_unknown failed" \
    "server learns that the worker rejected its token"
expect_no_line "$out/server.log" '^server: worker .* sent 3 numbers: 7,7,7$' \
    "server takes no data from a worker that rejected its token"

# c. Hostile frames: a size above the limit, an unknown first message, an empty
#    payload and a malformed token.
send_raw() {
    local bytes=$1
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        printf "$bytes" >&3
        # Reads whatever the server sends back, until it closes the connection.
        timeout 10 cat <&3 >/dev/null
    ) 2>/dev/null
}
send_raw 'T\377\377\377\377'
expect_line "$out/server.log" 'states 4294967295 bytes, above the limit of 65536' \
    "server rejects a frame size above the limit"
send_raw 'X\000\000\000\003abc'
expect_line "$out/server.log" 'rejected: expected a token message, got type 0x58' \
    "server rejects an unknown first message"
send_raw 'T\000\000\000\000'
expect_line "$out/server.log" 'message of type 0x54 has an empty payload' \
    "server rejects an empty token"
send_raw 'T\000\000\000\005a.b.c'
expect_line "$out/server.log" 'rejected: check token_malformed failed' \
    "server rejects a malformed token"
if kill -0 "$server_pid" 2>/dev/null; then
    ok "server survives hostile frames"
else
    not_ok "server exited after hostile frames"
fi

# d. A valid worker completes the job after all of that.
status=0
job_exec "$service" job-worker "$out/valid.jwt" "$JOB_WORKER_BIN" --name valid \
    --connect "127.0.0.1:$port" --data 4,5,6 "${tls[@]}" >"$out/valid.log" 2>&1 || status=$?
expect_equal "$status" 0 "valid worker exits with 0"
expect_line "$out/valid.log" '^worker valid: received the result 4,5,6$' \
    "valid worker receives the result"
status=0
wait "$server_pid" || status=$?
JOB_PIDS=("${JOB_PIDS[@]/$server_pid/}")
expect_equal "$status" 0 "server exits with 0 after its worker"
expect_line "$out/server.log" '^server: combined the vectors of 1 worker: 4,5,6$' \
    "server combined only the valid worker's vector"

# e. attest exec with an unregistered measurement never starts the server.
cp "$JOB_SERVER_BIN" "$out/attest-job-server-modified"
printf 'x' >>"$out/attest-job-server-modified"
status=0
job_exec "$service" job-server "$out/modified-server.jwt" "$out/attest-job-server-modified" \
    --workers 1 "${tls[@]}" >"$out/modified-server.log" 2>&1 || status=$?
expect_equal "$status" 1 "modified server binary exits with 1"
expect_line "$out/modified-server.log" 'rejected: check appraisal_measurement_not_allowed failed' \
    "modified server binary rejected for its measurement"
expect_no_line "$out/modified-server.log" '^server: listening' "modified server never starts"

# ---- 3. the review's cases: replay, protocol order, idle peers, peer text, result size ----

peer=$root/tests/cli/job_peer.py

# Waits up to 10 s until FILE has a line matching the extended regular expression.
wait_for_line() {
    local file=$1 regex=$2 attempt
    for attempt in $(seq 100); do
        if grep -Eq -- "$regex" "$file" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Starts a job server through attest exec with the arguments given, logging
# to LOG; sets server_pid and server_port.
# Usage: server_start LOG ARGS...
server_start() {
    local log=$1
    shift
    # Created here, since job_server_port may read it before the background job opens it.
    : >"$log"
    job_exec "$service" job-server "$out/$(basename "$log" .log).jwt" "$JOB_SERVER_BIN" \
        "${tls[@]}" "$@" >"$log" 2>&1 &
    server_pid=$!
    JOB_PIDS+=("$server_pid")
    server_port=$(job_server_port "$log" "$server_pid")
}

# Waits for the server started last; sets server_status.
server_wait() {
    server_status=0
    wait "$server_pid" || server_status=$?
    JOB_PIDS=("${JOB_PIDS[@]/$server_pid/}")
}

# Starts job_peer.py as a server with the arguments given; sets peer_pid and peer_port.
# Usage: peer_server_start NAME ARGS...
peer_server_start() {
    local name=$1 attempt
    shift
    rm -f "$out/$name.port"
    /usr/bin/python3 "$peer" server --port-file "$out/$name.port" "$@" \
        >"$out/$name-peer.log" 2>&1 &
    peer_pid=$!
    JOB_PIDS+=("$peer_pid")
    for attempt in $(seq 100); do
        if [ -s "$out/$name.port" ]; then
            peer_port=$(cat "$out/$name.port")
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# Tokens of the registered binaries, taken with --help so that nothing connects.
job_exec "$service" job-worker "$out/copied.jwt" "$JOB_WORKER_BIN" --help >/dev/null 2>&1
job_exec "$service" job-server "$out/server-copy.jwt" "$JOB_SERVER_BIN" --help >/dev/null 2>&1
copied_jti=$(cut -d. -f2 "$out/copied.jwt" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .jti)

# f. One worker token on two connections fills one slot, not two.
server_start "$out/replay-server.log" --workers 2
ATTEST_TOKEN_FILE=$out/copied.jwt "$JOB_WORKER_BIN" --name first-use --connect "127.0.0.1:$server_port" \
    --data 1,1 "${tls[@]}" >"$out/first-use.log" 2>&1 &
first_pid=$!
JOB_PIDS+=("$first_pid")
wait_for_line "$out/replay-server.log" '^server: worker .* sent 2 numbers: 1,1$'
status=0
ATTEST_TOKEN_FILE=$out/copied.jwt "$JOB_WORKER_BIN" --name second-use --connect "127.0.0.1:$server_port" \
    --data 5,5 "${tls[@]}" >"$out/second-use.log" 2>&1 || status=$?
expect_equal "$status" 1 "second use of a worker token exits with 1"
expect_line "$out/second-use.log" \
    "^worker second-use: the server rejected this worker: check jti failed: token $copied_jti was already used by another worker \\(127\\.0\\.0\\.1:[0-9]+\\)\$" \
    "second use of a worker token is told the jti check failed"
expect_line "$out/replay-server.log" \
    "^server: worker 127\\.0\\.0\\.1:[0-9]+ rejected: check jti failed: token $copied_jti was already used" \
    "server rejects a jti it already accepted"
expect_no_line "$out/second-use.log" '^worker second-use: sent' "second use of a worker token sends no data"
status=0
job_exec "$service" job-worker "$out/after-replay.jwt" "$JOB_WORKER_BIN" --name after-replay \
    --connect "127.0.0.1:$server_port" --data 2,2 "${tls[@]}" >"$out/after-replay.log" 2>&1 || status=$?
expect_equal "$status" 0 "worker after a replayed token exits with 0"
status=0
wait "$first_pid" || status=$?
JOB_PIDS=("${JOB_PIDS[@]/$first_pid/}")
expect_equal "$status" 0 "first use of the worker token exits with 0"
server_wait
expect_equal "$server_status" 0 "server with a replayed token exits with 0"
expect_line "$out/replay-server.log" '^server: combined the vectors of 2 workers: 3,3$' \
    "server combined the first use and the other worker only"

# g. A listener that is not the server gets no worker token: first one that
#    stays silent, then one that shows a genuine token of the wrong application.
peer_server_start silent --capture "$out/silent.capture"
status=0
job_exec "$service" job-worker "$out/to-silent.jwt" "$JOB_WORKER_BIN" --name to-silent \
    --connect "127.0.0.1:$peer_port" --data 1 --timeout 2 "${tls[@]}" \
    >"$out/to-silent.log" 2>&1 || status=$?
wait "$peer_pid"
expect_equal "$status" 1 "worker facing a silent listener exits with 1"
expect_line "$out/to-silent.log" '^worker to-silent: no token from the server: timed out$' \
    "worker waits for the server's token first"
expect_equal "$(wc -c <"$out/silent.capture")" 0 "silent listener receives nothing from the worker"

peer_server_start impostor-server --capture "$out/impostor-server.capture" --token "$out/copied.jwt"
status=0
job_exec "$service" job-worker "$out/to-impostor.jwt" "$JOB_WORKER_BIN" --name to-impostor \
    --connect "127.0.0.1:$peer_port" --data 1 "${tls[@]}" >"$out/to-impostor.log" 2>&1 || status=$?
wait "$peer_pid"
expect_equal "$status" 1 "worker facing a server with a worker token exits with 1"
expect_line "$out/to-impostor.log" \
    '^worker to-impostor: server.s token rejected: check sub failed: the token is for application "job-worker", expected "job-server"$' \
    "worker rejects a server token of the wrong application"
if grep -qF "$(cut -d. -f2 "$out/to-impostor.jwt")" "$out/impostor-server.capture"; then
    not_ok "listener with a wrong token received the worker's token"
else
    ok "listener with a wrong token receives no worker token"
fi
expect_equal "$(head -c1 "$out/impostor-server.capture")" R \
    "listener with a wrong token receives only a rejection"

# h. An idle connection opened before the genuine workers: the server drops it
#    after the connection timeout and the job still completes within --timeout.
server_start "$out/idle-server.log" --workers 2 --timeout 15
exec {idle}<>"/dev/tcp/127.0.0.1/$server_port"
idle_pids=()
for name in after-idle-1 after-idle-2; do
    job_exec "$service" job-worker "$out/$name.jwt" "$JOB_WORKER_BIN" --name "$name" \
        --connect "127.0.0.1:$server_port" --data 3 "${tls[@]}" >"$out/$name.log" 2>&1 &
    idle_pids+=($!)
    JOB_PIDS+=($!)
done
for pid in "${idle_pids[@]}"; do
    status=0
    wait "$pid" || status=$?
    JOB_PIDS=("${JOB_PIDS[@]/$pid/}")
    expect_equal "$status" 0 "worker after an idle connection exits with 0"
done
server_wait
exec {idle}>&-
expect_equal "$server_status" 0 "server with an idle connection exits with 0"
expect_line "$out/idle-server.log" '^server: worker 127\.0\.0\.1:[0-9]+ rejected: no token read: timed out$' \
    "server drops the idle connection"
expect_line "$out/idle-server.log" '^server: combined the vectors of 2 workers: 6$' \
    "server combines the workers after the idle connection"

# The job's deadline still bounds a connection: --timeout 2 is below the
# default connection timeout of 5 s.
server_start "$out/deadline-server.log" --workers 1 --timeout 2
exec {idle}<>"/dev/tcp/127.0.0.1/$server_port"
started=$SECONDS
server_wait
exec {idle}>&-
expect_equal "$server_status" 1 "server with only an idle client exits with 1"
expect_line "$out/deadline-server.log" 'timed out after 2 s with 0 of 1 workers$' \
    "server with only an idle client reports the job timeout"
if [ $((SECONDS - started)) -le 4 ]; then
    ok "job timeout bounds an idle connection"
else
    not_ok "server with --timeout 2 ran $((SECONDS - started)) s"
fi

# i. Peer text with an escape sequence, a fake line and 3000 more bytes is
#    printed escaped, on one line and cut.
hostile_text='\x1b[31mred\nworker fake: received the result 1,2,3\n'$(printf 'x%.0s' $(seq 3000))
peer_server_start rejecting-server --reject "$hostile_text"
status=0
ATTEST_TOKEN_FILE=$out/copied.jwt "$JOB_WORKER_BIN" --name hostile-text \
    --connect "127.0.0.1:$peer_port" --data 1 "${tls[@]}" >"$out/hostile-text.log" 2>&1 || status=$?
wait "$peer_pid"
expect_equal "$status" 1 "worker given a hostile rejection exits with 1"
expect_line "$out/hostile-text.log" \
    '^worker hostile-text: the server rejected this worker: \\x1b\[31mred\\nworker fake: received the result 1,2,3\\nx+\.\.\.$' \
    "worker prints the server's rejection escaped"
expect_no_line "$out/hostile-text.log" '^worker fake' "server's rejection adds no line to the worker's output"
expect_equal "$(grep -c $'\x1b' "$out/hostile-text.log")" 0 "server's rejection prints no escape byte"
longest=$(awk '{ if (length($0) > max) max = length($0) } END { print max + 0 }' "$out/hostile-text.log")
if [ "$longest" -le 300 ]; then
    ok "server's rejection is cut to a short line"
else
    not_ok "server's rejection printed as a line of $longest bytes"
fi

server_start "$out/text-server.log" --workers 1
status=0
/usr/bin/python3 "$peer" worker --port "$server_port" \
    --reject '\x1b]0;title\x07bad\nserver: combined the vectors of 1 worker: 666' \
    >"$out/hostile-worker.log" 2>&1 || status=$?
expect_equal "$status" 0 "hostile worker script ran"
wait_for_line "$out/text-server.log" "rejected the server's token"
expect_line "$out/text-server.log" \
    "^server: worker 127\\.0\\.0\\.1:[0-9]+ rejected the server's token: \\\\x1b\\]0;title\\\\x07bad\\\\nserver: combined the vectors of 1 worker: 666\$" \
    "server prints the worker's rejection escaped"
expect_no_line "$out/text-server.log" '^server: combined the vectors of 1 worker: 666' \
    "worker's rejection adds no line to the server's output"
expect_equal "$(grep -c $'\x1b' "$out/text-server.log")" 0 "worker's rejection prints no escape byte"
job_exec "$service" job-worker "$out/after-text.jwt" "$JOB_WORKER_BIN" --name after-text \
    --connect "127.0.0.1:$server_port" --data 8 "${tls[@]}" >"$out/after-text.log" 2>&1
server_wait
expect_equal "$server_status" 0 "server after a hostile rejection exits with 0"

# j. A server with a genuine token that returns 1024 numbers for a vector of 2.
peer_server_start long-result --token "$out/server-copy.jwt" --result-count 1024
status=0
job_exec "$service" job-worker "$out/long-result.jwt" "$JOB_WORKER_BIN" --name long-result \
    --connect "127.0.0.1:$peer_port" --data 1,2 "${tls[@]}" >"$out/long-result.log" 2>&1 || status=$?
wait "$peer_pid"
expect_equal "$status" 1 "worker given a result of the wrong size exits with 1"
expect_line "$out/long-result.log" \
    '^worker long-result: invalid result: 1024 numbers, expected 2 as sent$' \
    "worker rejects a result with more numbers than it sent"
expect_no_line "$out/long-result.log" '^worker long-result: received' \
    "worker prints no result of the wrong size"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
