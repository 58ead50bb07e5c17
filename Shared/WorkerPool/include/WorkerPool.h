#ifndef TRANSFORMER_STEPS_WORKER_POOL_H
#define TRANSFORMER_STEPS_WORKER_POOL_H

/// The largest thread count, the calling thread included, that TRANSFORMER_STEPS_THREADS may set.
#define TS_POOL_MAX_THREADS 64

/// One task of a parallel loop: called once for each index, with the caller's context pointer.
typedef void (*ts_pool_task)(void *context, long index);

/// Returns the number of threads that `ts_pool_run` spreads work over, the calling thread
/// included: one per processor this process may use (its affinity mask, limited on Linux by its
/// cgroup's CPU quota), or the value of the environment variable TRANSFORMER_STEPS_THREADS when
/// that is a whole number from 1 to TS_POOL_MAX_THREADS. The pool starts that number minus one workers on first use.
long ts_pool_thread_count(void);

/// Calls `task(context, index)` once for every index in 0..<count and returns when all calls have
/// finished. The calling thread and the pool's workers share the calls. Each index is handed out
/// once, in increasing order, to whichever thread is free first.
///
/// Workers wait for the next call by spinning for a short while and then sleeping, so that
/// back-to-back calls (the kernels of one training step) start without waking a sleeping thread.
///
/// The pool runs one call at a time. A call made while another is running (from a task, or from a
/// second thread) runs all its indices on its own calling thread instead of waiting for the pool.
void ts_pool_run(long count, void *context, ts_pool_task task);

#endif
