#!/usr/bin/env bash
# scripts/test.sh: the second README command, and what .ci/run runs.
# Installs what is missing (scripts/setup-deps.sh), then builds and runs
# every test three times over:
#   build-ci/gcc    gcc, Release (-O3, as demo.sh and bench/run.sh build),
#                   strict warnings as errors
#   build-ci/asan   gcc with AddressSanitizer + UndefinedBehaviorSanitizer
#   build-ci/clang  clang, so its warnings are held to the same standard
# Exits non-zero at the first failing build or test run. JOBS (default:
# the number of CPUs) and RL_CI_BUILD_ROOT (default build-ci) override.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD_ROOT=${RL_CI_BUILD_ROOT:-build-ci}

bash scripts/setup-deps.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# run NAME CC CMAKE_ARGS...: configure, build and test one flavour.
run() {
    local name=$1 cc=$2 dir=$BUILD_ROOT/$1 t0=$SECONDS
    shift 2
    echo "==> $name: configure and build ($cc)"
    CC=$cc cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
    echo "==> $name: test"
    ctest --test-dir "$dir" --output-on-failure -j "$JOBS"
    echo "==> $name: passed in $((SECONDS - t0)) s"
}

run gcc gcc -DCMAKE_BUILD_TYPE=Release
run asan gcc -DRL_SANITIZE=ON
run clang clang
echo "==> all tests passed in $SECONDS s"
