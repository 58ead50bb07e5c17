#!/usr/bin/env python3
"""Measure float32 GEMM speed with numpy's BLAS, as the reference for `TensorBench gemm`.

Usage:
  python3 Tools/numpy_gemm.py [--threads 2] [--samples 7] [--sample-time 0.1]
                              [--shape BATCH,M,N,K,TA,TB ...]

Each --shape computes C[M, N] = op(A) @ op(B) BATCH times; TA=1 stores A as [K, M] and TB=1 stores
B as [N, K], as in the Swift `sgemm`. Without --shape the script measures the small-GPT shapes
that TensorBench uses. Timing matches TensorBench: one warm-up call, then the repetition count is
doubled until a run lasts 20 ms, scaled to --sample-time seconds per sample, and the median of
--samples samples is reported.

Output is one `key=value` line per record:
  info numpy=2.4.6 blas=openblas blas_version=0.3.31 threads=2 thread_control=threadpoolctl
  gemm batch=1 m=768 n=128 k=128 transpose_a=0 transpose_b=0 median_gflops=432.6 best_gflops=437.8

The script sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS to --threads before
numpy loads, and also limits the BLAS thread pool through threadpoolctl when that is installed.
"""

import argparse
import contextlib
import os
import statistics
import sys
import time

DEFAULT_SHAPES = [
    # (batch, m, n, k, transpose_a, transpose_b)
    (1, 768, 128, 128, 0, 0),
    (1, 768, 512, 128, 0, 0),
    (1, 768, 128, 512, 0, 0),
    (1, 768, 66, 128, 0, 1),
    (1, 768, 128, 512, 0, 1),
    (1, 128, 512, 768, 1, 0),
    (1, 1024, 1024, 1024, 0, 0),
    (48, 64, 64, 32, 0, 1),
]


def parse_shape(text):
    parts = [int(value) for value in text.split(",")]
    if len(parts) != 6 or min(parts[:4]) < 1 or parts[4] not in (0, 1) or parts[5] not in (0, 1):
        raise argparse.ArgumentTypeError(
            "invalid --shape %r: expected BATCH,M,N,K,TA,TB with positive sizes and TA, TB 0 or 1" % text)
    return tuple(parts)


def positive(convert):
    """Return an argparse type that converts with `convert` and accepts only values above 0."""
    def parse(text):
        value = convert(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("invalid value %r: it must be greater than 0" % text)
        return value
    return parse


def parse_arguments():
    parser = argparse.ArgumentParser(description="float32 GEMM GFLOP/s with numpy's BLAS")
    parser.add_argument("--threads", type=positive(int), default=2, help="BLAS threads (default 2)")
    parser.add_argument("--samples", type=positive(int), default=7, help="timed samples per shape (default 7)")
    parser.add_argument("--sample-time", type=positive(float), default=0.1,
                        help="seconds that one sample lasts at least (default 0.1)")
    parser.add_argument("--shape", type=parse_shape, action="append",
                        help="BATCH,M,N,K,TA,TB; may be repeated (default: the small-GPT shapes)")
    return parser.parse_args()


def rates(function, flops, samples, sample_time):
    """Return the GFLOP/s of `samples` timed runs of `function`, after one warm-up call."""
    function()
    repetitions = 1
    while True:
        start = time.perf_counter()
        for _ in range(repetitions):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= 0.02:
            break
        repetitions *= 2
    repetitions = max(1, round(repetitions * sample_time / elapsed))

    results = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(repetitions):
            function()
        elapsed = time.perf_counter() - start
        results.append(flops * repetitions / elapsed / 1e9)
    return results


def make_operation(np, rng, batch, m, n, k, transpose_a, transpose_b):
    """Return a function computing C = op(A) @ op(B) in place, with operands stored as Swift stores them."""
    def matrix(rows, columns):
        shape = (rows, columns) if batch == 1 else (batch, rows, columns)
        return rng.standard_normal(shape, dtype=np.float32)

    def transposed(array):
        return array.swapaxes(-1, -2)

    a = transposed(matrix(k, m)) if transpose_a else matrix(m, k)
    b = transposed(matrix(n, k)) if transpose_b else matrix(k, n)
    c = np.empty((m, n) if batch == 1 else (batch, m, n), dtype=np.float32)
    return lambda: np.matmul(a, b, out=c)


def main():
    arguments = parse_arguments()
    threads = str(arguments.threads)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = threads

    try:
        import numpy as np
    except ImportError:
        print("error numpy is not installed for %s" % sys.executable)
        return 1

    limiter = contextlib.nullcontext()
    thread_control = "environment"
    blas, blas_version = "unknown", "unknown"
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        limiter = threadpool_limits(limits=arguments.threads, user_api="blas")
        thread_control = "threadpoolctl"
        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                blas, blas_version = pool.get("internal_api"), pool.get("version")
                break
    except ImportError:
        # Without threadpoolctl the build configuration still names the BLAS (numpy >= 1.26).
        try:
            build_blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            blas, blas_version = build_blas.get("name", blas), build_blas.get("version", blas_version)
        except (TypeError, KeyError, ValueError):
            pass

    print("info numpy=%s blas=%s blas_version=%s threads=%d thread_control=%s python=%s" % (
        np.__version__, blas, blas_version, arguments.threads, thread_control, sys.executable))
    sys.stdout.flush()

    rng = np.random.default_rng(0)
    with limiter:
        for batch, m, n, k, transpose_a, transpose_b in arguments.shape or DEFAULT_SHAPES:
            operation = make_operation(np, rng, batch, m, n, k, transpose_a, transpose_b)
            results = rates(operation, 2.0 * batch * m * n * k, arguments.samples, arguments.sample_time)
            print("gemm batch=%d m=%d n=%d k=%d transpose_a=%d transpose_b=%d median_gflops=%.2f best_gflops=%.2f" % (
                batch, m, n, k, transpose_a, transpose_b, statistics.median(results), max(results)))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
