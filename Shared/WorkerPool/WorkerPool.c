// A pool of worker threads for the Tensor kernels.
//
// Why not Dispatch: `concurrentPerform` wakes sleeping worker threads for every call. A training
// step of the small GPT makes a few hundred parallel calls of 20 to 500 microseconds each, and the
// wake-ups (a futex system call and a context switch per call) took about a tenth of the step.
// Here the workers spin for a while after each call, so the next call finds them awake.
//
// How one call runs:
//   1. The caller takes the pool (`busy`) and marks `ticket` with the new call's number in the high
//      32 bits and `publishing` in the low 32 bits. It stores the task, then sets the low bits to
//      the next index to hand out: 0.
//   2. Every thread, the caller included, claims indices by compare-and-swap on `ticket`. A worker
//      only claims an index while the high bits still name the call whose task it read, so a late
//      worker can never run an index of a newer call with an older task.
//   3. Each finished index adds one to `finished`; the caller waits until it reaches `count`, and
//      only then may the next call replace the task.
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include "WorkerPool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax(void) {}
#endif

/// How long an idle worker spins before it sleeps. Gaps between the parallel calls of a training
/// step are mostly a few microseconds; a longer gap (a step boundary, printing) costs one wake-up.
static const uint64_t spin_nanoseconds = 200000;

/// Upper bound on worker threads: the calling thread makes up the rest of TS_POOL_MAX_THREADS.
enum { max_workers = TS_POOL_MAX_THREADS - 1 };

static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static long worker_count;

static atomic_int busy;
static _Atomic uint64_t ticket;
static _Atomic long finished;
static _Atomic(ts_pool_task) job_task;
static _Atomic(void *) job_context;
static _Atomic long job_count;

static pthread_mutex_t sleep_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_condition = PTHREAD_COND_INITIALIZER;
static atomic_int sleepers;

static uint64_t now_nanoseconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (uint64_t)time.tv_sec * 1000000000u + (uint64_t)time.tv_nsec;
}

/// Low 32 bits of `ticket` while the caller is still storing a call's task.
static const uint32_t publishing = UINT32_MAX;

static inline uint32_t call_of(uint64_t value) { return (uint32_t)(value >> 32); }
static inline uint32_t index_of(uint64_t value) { return (uint32_t)value; }

/// Returns whether `value` of `ticket` shows a fully published call other than `seen`.
static inline int is_new_call(uint64_t value, uint32_t seen) {
    return call_of(value) != seen && index_of(value) != publishing;
}

/// Claims and runs indices of call number `call` until none are left or a newer call has started.
static void run_indices(uint32_t call, ts_pool_task task, void *context, long count) {
    uint64_t current = atomic_load_explicit(&ticket, memory_order_acquire);
    for (;;) {
        if (call_of(current) != call) return;
        long index = (long)index_of(current);
        if (index >= count) return;
        if (!atomic_compare_exchange_weak_explicit(&ticket, &current, current + 1,
                                                   memory_order_acq_rel, memory_order_acquire)) {
            continue;
        }
        task(context, index);
        atomic_fetch_add_explicit(&finished, 1, memory_order_release);
        current = atomic_load_explicit(&ticket, memory_order_acquire);
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    uint32_t seen = call_of(atomic_load_explicit(&ticket, memory_order_acquire));
    for (;;) {
        // Wait for a published call newer than the last one seen: spin first, then sleep.
        uint64_t spin_start = now_nanoseconds();
        unsigned spins = 0;
        uint64_t current;
        while (!is_new_call(current = atomic_load_explicit(&ticket, memory_order_acquire), seen)) {
            cpu_relax();
            if (++spins % 256 != 0 || now_nanoseconds() - spin_start < spin_nanoseconds) continue;
            pthread_mutex_lock(&sleep_mutex);
            atomic_fetch_add(&sleepers, 1);
            while (!is_new_call(current = atomic_load(&ticket), seen)) {
                pthread_cond_wait(&sleep_condition, &sleep_mutex);
            }
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_mutex);
            break;
        }
        uint32_t call = call_of(current);

        // Read the call's task, then check that no newer call started publishing meanwhile. If
        // one did, the three values may come from different calls, so the worker waits for it.
        ts_pool_task task = atomic_load_explicit(&job_task, memory_order_relaxed);
        void *context = atomic_load_explicit(&job_context, memory_order_relaxed);
        long count = atomic_load_explicit(&job_count, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        uint64_t after = atomic_load_explicit(&ticket, memory_order_relaxed);
        if (call_of(after) != call || index_of(after) == publishing) continue;
        seen = call;
        run_indices(call, task, context, count);
    }
    return NULL;
}

/// Returns the processors this process may use: those in its affinity mask, and on Linux at most
/// its cgroup's CPU quota rounded up (a container limited to 2 CPUs on a 64-core host gets 2).
static long processor_count(void) {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) count = CPU_COUNT(&set);

    // cgroup v2 writes "max PERIOD" without a limit and "QUOTA PERIOD" with one.
    FILE *file = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (file != NULL) {
        char quota[32];
        long period = 0;
        if (fscanf(file, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
            long limit = (atol(quota) + period - 1) / period;
            if (limit >= 1 && limit < count) count = limit;
        }
        fclose(file);
    }
#endif
    return count > 0 ? count : 1;
}

/// Returns the number of threads to use: `TRANSFORMER_STEPS_THREADS` when it is a whole number
/// from 1 to TS_POOL_MAX_THREADS, and the processor count otherwise. Programs reject other values of
/// the variable before any kernel runs, because this library cannot report them.
static long thread_count_setting(void) {
    const char *setting = getenv("TRANSFORMER_STEPS_THREADS");
    if (setting != NULL && *setting != '\0') {
        char *end = NULL;
        long value = strtol(setting, &end, 10);
        if (*end == '\0' && value >= 1 && value <= TS_POOL_MAX_THREADS) return value;
    }
    return processor_count();
}

static void start_workers(void) {
    long workers_to_start = thread_count_setting() - 1;
    if (workers_to_start > max_workers) workers_to_start = max_workers;
    for (long index = 0; index < workers_to_start; index++) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attributes, worker_main, NULL) == 0) worker_count++;
        pthread_attr_destroy(&attributes);
    }
}

long ts_pool_thread_count(void) {
    pthread_once(&start_once, start_workers);
    return worker_count + 1;
}

void ts_pool_run(long count, void *context, ts_pool_task task) {
    if (count <= 0) return;
    pthread_once(&start_once, start_workers);
    if (count == 1 || worker_count == 0 || count >= publishing || atomic_exchange(&busy, 1)) {
        for (long index = 0; index < count; index++) task(context, index);
        return;
    }

    // Publish the call. Marking `ticket` first lets a worker that is still reading the previous
    // call's task notice the change. The task is stored next, and the indices open last.
    uint32_t call = call_of(atomic_load_explicit(&ticket, memory_order_relaxed)) + 1;
    atomic_store_explicit(&ticket, ((uint64_t)call << 32) | publishing, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&job_task, task, memory_order_relaxed);
    atomic_store_explicit(&job_context, context, memory_order_relaxed);
    atomic_store_explicit(&job_count, count, memory_order_relaxed);
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    atomic_store(&ticket, (uint64_t)call << 32);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_mutex);
        pthread_cond_broadcast(&sleep_condition);
        pthread_mutex_unlock(&sleep_mutex);
    }

    run_indices(call, task, context, count);

    // Wait for the indices that workers claimed. A worker that the system has descheduled mid-task
    // delays the caller, so after a while the caller yields its core instead of spinning.
    unsigned spins = 0;
    while (atomic_load_explicit(&finished, memory_order_acquire) < count) {
        if (++spins < 4096) cpu_relax(); else sched_yield();
    }
    atomic_store_explicit(&busy, 0, memory_order_release);
}
