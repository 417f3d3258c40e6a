#!/usr/bin/env bash
# The demonstration job on the simulated platform, all on 127.0.0.1:
#
# 1. a simulated SGX platform and its collateral;
# 2. attestd over HTTPS (a self-signed certificate) with its defaults, plus
#    the simulated platform's root as the one added trust root;
# 3. the administrator registers the applications job-server and job-worker,
#    each with a policy that accepts simulated evidence and the MRENCLAVE of
#    its binary (SHA-256 of the file, as attest exec measures it);
# 4. attest-job-server and two attest-job-worker processes start through
#    attest exec. The server sends its token to each worker, which verifies
#    it before sending its own token; the server verifies that token and
#    accepts each token id once. Only then does the worker send its vector,
#    and the server returns the sum;
# 5. a copy of the worker binary with bytes appended is started the same way,
#    so its measurement differs: the service rejects it and it never starts.
#
# Prints who attested (application, policy, TCB status, token id), what was
# exchanged, and who was rejected and why. Exits with 0 only if every step
# happened as described; every process and temporary folder is removed on
# exit.
#
# Usage: scripts/job.sh BUILD_DIR   (a meson build folder with the examples built)
#
# tests/cli/demo_job.sh sources this file for its functions; sourced, it
# runs nothing.

# The folder and processes of this run; job_cleanup removes them.
JOB_WORK=
JOB_PIDS=()

# Stops every process started here (by its process id) and removes JOB_WORK.
job_cleanup() {
    local pid
    for pid in "${JOB_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    JOB_PIDS=()
    if [ -n "$JOB_WORK" ]; then
        rm -rf "$JOB_WORK"
    fi
}

# Sets the paths of the binaries of BUILD_DIR and creates JOB_WORK.
# Usage: job_setup BUILD_DIR
job_setup() {
    local build
    build=$(cd "$1" && pwd) || return 1
    JOB_ATTEST=$build/src/cli/attest
    JOB_ATTESTD=$build/src/attestd/attestd
    JOB_SERVER_BIN=$build/examples/job/attest-job-server
    JOB_WORKER_BIN=$build/examples/job/attest-job-worker
    local binary
    for binary in "$JOB_ATTEST" "$JOB_ATTESTD" "$JOB_SERVER_BIN" "$JOB_WORKER_BIN"; do
        if [ ! -x "$binary" ]; then
            echo "job: $binary is missing: build $build first" >&2
            return 1
        fi
    done
    JOB_WORK=$(mktemp -d /tmp/attest-job-XXXXXX)
}

# Creates the simulated platform in JOB_WORK/platform and its SGX collateral bundle.
job_platform_init() {
    JOB_PLATFORM=$JOB_WORK/platform
    "$JOB_ATTEST" sim init --dir "$JOB_PLATFORM" >/dev/null &&
        "$JOB_ATTEST" sim collateral --dir "$JOB_PLATFORM" --tee sgx \
            --out "$JOB_WORK/collateral-sgx.json" >/dev/null
}

# Prints a TCP port of 127.0.0.1 on which nothing listened a moment ago.
job_free_port() {
    local port attempt
    for attempt in $(seq 50); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "job: no free port found in $attempt attempts" >&2
    return 1
}

# Starts attestd over HTTPS on a free port of 127.0.0.1, with its data, TLS
# certificate, configuration and log in DIR. Writes DIR/url and DIR/admin-key.
# Usage: job_service_start DIR
job_service_start() {
    local dir=$1 port
    mkdir -p "$dir"
    port=$(job_free_port) || return 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$dir/tls-key.pem" -out "$dir/tls-cert.pem" 2>/dev/null || return 1
    "$JOB_ATTESTD" init --data-dir "$dir/data" >"$dir/admin-key" 2>"$dir/init.log" || return 1
    echo "https://127.0.0.1:$port" >"$dir/url"
    # The defaults, plus what this run needs: the port, the folders, TLS, the
    # collateral, the simulated root and the issuer that relying parties expect.
    cat >"$dir/attestd.json" <<CONFIG
{"listen_port": $port, "data_dir": "$dir/data",
 "tls_cert_file": "$dir/tls-cert.pem", "tls_key_file": "$dir/tls-key.pem",
 "collateral_path": "$JOB_WORK/collateral-sgx.json",
 "trust_root": "$JOB_PLATFORM/root-ca.der", "issuer": "https://127.0.0.1:$port"}
CONFIG
    "$JOB_ATTESTD" serve --config "$dir/attestd.json" 2>"$dir/attestd.log" &
    JOB_PIDS+=($!)
    local pid=$! attempt
    for attempt in $(seq 100); do
        if job_api "$dir" GET /healthz -o /dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "job: attestd exited at start; its log:" >&2
            tail -n 20 "$dir/attestd.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "job: attestd did not respond on port $port within $((attempt / 10)) s" >&2
    return 1
}

# Sends an administrator request to the service of DIR and prints the body;
# fails on an HTTP error status.
# Usage: job_api DIR METHOD PATH [curl arguments...]
job_api() {
    local dir=$1 method=$2 path=$3
    shift 3
    curl -sf --max-time 10 --cacert "$dir/tls-cert.pem" -X "$method" \
        -H "Authorization: Bearer $(cat "$dir/admin-key")" \
        -H 'Content-Type: application/json' "$@" "$(cat "$dir/url")$path"
}

# Registers application NAME in the service of DIR with a policy accepting
# simulated SGX evidence of BINARY's measurement, and activates it.
# Usage: job_application_register DIR NAME BINARY
job_application_register() {
    local dir=$1 name=$2 binary=$3 mrenclave version
    mrenclave=$(sha256sum "$binary" | cut -d' ' -f1)
    job_api "$dir" POST /v1/applications -d "{\"name\": \"$name\"}" >/dev/null || return 1
    version=$(job_api "$dir" PUT "/v1/applications/$name/policies" -d "{
        \"evidence_types\": [\"sgx\"], \"sgx\": {\"mrenclave\": [\"$mrenclave\"]},
        \"simulated_allowed\": true}" | jq -r .version) || return 1
    job_api "$dir" POST "/v1/applications/$name/policies/$version/activate" >/dev/null
}

# Runs PROGRAM through attest exec as application APP of the service of DIR,
# with the simulated platform and the token written to TOKEN_FILE.
# Usage: job_exec DIR APP TOKEN_FILE PROGRAM [ARGS...]
job_exec() {
    local dir=$1 app=$2 token_file=$3
    shift 3
    "$JOB_ATTEST" exec --service "$(cat "$dir/url")" --app "$app" --backend sim \
        --sim-dir "$JOB_PLATFORM" --cacert "$dir/tls-cert.pem" --token-file "$token_file" \
        -- "$@"
}

# Waits until the server log LOG names its port, and prints the port.
# Usage: job_server_port LOG PID
job_server_port() {
    local log=$1 pid=$2 port attempt
    for attempt in $(seq 100); do
        port=$(sed -n -E 's/^server: listening on [0-9.]+:([0-9]+) .*/\1/p' "$log")
        if [ -n "$port" ]; then
            echo "$port"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    echo "job: the server did not start listening; its output:" >&2
    cat "$log" >&2
    return 1
}

# Prints "application A, policy P, TCB T, token jti J" of the token in FILE,
# verified with the JWKS of the service of DIR.
# Usage: job_token_describe DIR APP FILE
job_token_describe() {
    local dir=$1 app=$2 file=$3 url claims
    url=$(cat "$dir/url")
    claims=$("$JOB_ATTEST" token verify --jwks "$url/.well-known/jwks.json" \
        --cacert "$dir/tls-cert.pem" --issuer "$url" --app "$app" --json "$file") || return 1
    jq -r '.claims | "application \(.sub), policy \(.policy_id), TCB \(.tcb_status), token jti \(.jti)"' \
        <<<"$claims"
}

# Fails with MESSAGE unless FILE contains a line matching the extended regular expression.
# Usage: job_expect FILE REGEX MESSAGE
job_expect() {
    if ! grep -Eq -- "$2" "$1"; then
        echo "job: $3; output of $(basename "$1"):" >&2
        sed 's/^/    /' "$1" >&2
        return 1
    fi
}

# Runs the whole job with the binaries of BUILD_DIR; see the top of this file.
job_main() {
    local build=${1:?usage: scripts/job.sh BUILD_DIR}
    trap job_cleanup EXIT
    job_setup "$build"
    job_platform_init
    local service=$JOB_WORK/service work=$JOB_WORK
    job_service_start "$service"
    local url
    url=$(cat "$service/url")
    job_application_register "$service" job-server "$JOB_SERVER_BIN"
    job_application_register "$service" job-worker "$JOB_WORKER_BIN"
    echo "attestd at $url trusts the simulated root $(basename "$JOB_PLATFORM")/root-ca.der"
    echo "registered job-server (MRENCLAVE $(sha256sum "$JOB_SERVER_BIN" | cut -c1-16)...) and" \
        "job-worker (MRENCLAVE $(sha256sum "$JOB_WORKER_BIN" | cut -c1-16)...)"

    # The server, through attest exec: it runs only if the service accepts it.
    local tls=(--service "$url" --cacert "$service/tls-cert.pem")
    job_exec "$service" job-server "$work/server.jwt" "$JOB_SERVER_BIN" --workers 2 "${tls[@]}" \
        >"$work/server.log" 2>&1 &
    local server_pid=$!
    JOB_PIDS+=("$server_pid")
    local port
    port=$(job_server_port "$work/server.log" "$server_pid")

    # Two workers, and a third from a modified copy of the worker binary.
    local worker_pids=() name
    for name in worker-1 worker-2; do
        job_exec "$service" job-worker "$work/$name.jwt" "$JOB_WORKER_BIN" --name "$name" \
            --connect "127.0.0.1:$port" --data "$([ "$name" = worker-1 ] && echo 1,2,3 || echo 10,20,30)" \
            "${tls[@]}" >"$work/$name.log" 2>&1 &
        worker_pids+=($!)
        JOB_PIDS+=($!)
    done
    cp "$JOB_WORKER_BIN" "$work/attest-job-worker-modified"
    printf 'modified' >>"$work/attest-job-worker-modified"
    local modified_status=0
    job_exec "$service" job-worker "$work/worker-3.jwt" "$work/attest-job-worker-modified" \
        --name worker-3 --connect "127.0.0.1:$port" --data 100,200,300 "${tls[@]}" \
        >"$work/worker-3.log" 2>&1 || modified_status=$?

    local status=0 pid
    for pid in "${worker_pids[@]}" "$server_pid"; do
        wait "$pid" || status=1
    done
    JOB_PIDS=("${JOB_PIDS[0]}") # the others were waited for: only attestd is left to stop
    if [ "$status" -ne 0 ]; then
        echo "job: the server or a worker exited with a non-zero status" >&2
        for name in server worker-1 worker-2; do
            sed "s/^/    $name| /" "$work/$name.log" >&2
        done
        return 1
    fi

    # Every expected event, from the programs' own output.
    job_expect "$work/server.log" '^server: combined the vectors of 2 workers: 11,22,33$' \
        "the server did not combine two vectors"
    job_expect "$work/server.log" '^server: sent the result to 2 workers$' \
        "the server did not send the result"
    local verified
    verified=$(grep -c '^server: worker .* verified: application job-worker' "$work/server.log" || true)
    if [ "$verified" -ne 2 ]; then
        echo "job: the server verified $verified worker tokens, expected 2" >&2
        return 1
    fi
    for name in worker-1 worker-2; do
        job_expect "$work/$name.log" "^worker $name: server verified: application job-server" \
            "$name did not verify the server's token"
        job_expect "$work/$name.log" "^worker $name: received the result 11,22,33$" \
            "$name did not receive the result"
    done
    if [ "$modified_status" -ne 1 ]; then
        echo "job: attest exec of the modified worker exited with $modified_status, expected 1" >&2
        return 1
    fi
    job_expect "$work/worker-3.log" 'rejected: check appraisal_measurement_not_allowed failed' \
        "the modified worker was not rejected for its measurement"
    if grep -q '^worker worker-3: started' "$work/worker-3.log" || [ -e "$work/worker-3.jwt" ]; then
        echo "job: the modified worker started or got a token" >&2
        return 1
    fi

    # What happened, in a few lines.
    echo "accepted  server    $(job_token_describe "$service" job-server "$work/server.jwt")"
    for name in worker-1 worker-2; do
        echo "accepted  $name  $(job_token_describe "$service" job-worker "$work/$name.jwt")"
    done
    local reason
    reason="$(sed -n -E 's/^attest exec: rejected: (.*)$/\1/p' "$work/worker-3.log" | cut -c1-120)..."
    echo "rejected  worker-3  modified attest-job-worker: $reason; it never started"
    local jti sent received
    for name in worker-1 worker-2; do
        jti=$(sed -n -E "s/^worker $name: server verified: .*token jti (.*)$/\1/p" "$work/$name.log")
        sent=$(sed -n -E "s/^worker $name: sent (.*)$/\1/p" "$work/$name.log")
        received=$(sed -n -E "s/^worker $name: received the result (.*)$/\1/p" "$work/$name.log")
        echo "exchange  $name: verified the server's token $jti, then sent $sent and received $received"
    done
    jti=$(sed -n -E 's/^server: worker .* verified: .*token jti (.*)$/\1/p' "$work/server.log" |
        paste -sd ' ')
    local sum
    sum=$(sed -n -E 's/^server: combined the vectors of 2 workers: (.*)$/\1/p' "$work/server.log")
    echo "exchange  server: verified the worker tokens $jti before any data, returned the sum $sum"
    echo "job: passed: the server and 2 workers checked each other's tokens before exchanging" \
        "data, and the modified worker was rejected by attestd"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    job_main "$@"
fi
