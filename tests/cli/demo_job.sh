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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
