/* A small persistent pthread pool. Workers sleep on a condition variable between jobs; a job is one
 * range split into contiguous parts, part 0 run by the caller. Started lazily, grown by dl_set_threads.
 * Calls are serialized by a mutex, so add-on instances in several worker_threads share it safely. */
#include "difflens.h"

#include <pthread.h>
#include <stdlib.h>

#define DL_MAX_THREADS 256

static pthread_mutex_t call_mu = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

static int threads_wanted = 0; /* 0 = not yet initialized (read DIFFLENS_THREADS) */
static int workers_started = 0;
static unsigned long generation = 0;
static int pending = 0;

/* The generation each worker was created at: a worker created during a job's setup must still see that job. */
static unsigned long start_generation[DL_MAX_THREADS];

static dl_range_fn job_fn;
static void *job_ctx;
static size_t job_n;
static int job_parts;

static void run_part(int part) {
  size_t begin = job_n * (size_t)part / (size_t)job_parts;
  size_t end = job_n * (size_t)(part + 1) / (size_t)job_parts;
  if (begin < end) job_fn(job_ctx, begin, end);
}

static void *worker_main(void *arg) {
  int id = (int)(intptr_t)arg; /* 1-based: part 0 belongs to the caller */
  pthread_mutex_lock(&mu);
  unsigned long seen = start_generation[id];
  for (;;) {
    while (generation == seen) pthread_cond_wait(&start_cv, &mu);
    seen = generation;
    int parts = job_parts;
    pthread_mutex_unlock(&mu);
    if (id < parts) run_part(id);
    pthread_mutex_lock(&mu);
    if (--pending == 0) pthread_cond_signal(&done_cv);
  }
  return NULL;
}

static void ensure_init(void) {
  if (threads_wanted > 0) return;
  int n = 2;
  const char *env = getenv("DIFFLENS_THREADS");
  if (env && atoi(env) > 0) n = atoi(env);
  threads_wanted = n > DL_MAX_THREADS ? DL_MAX_THREADS : n;
}

static void start_workers(int total) {
  /* caller holds mu */
  while (workers_started < total - 1) {
    pthread_t t;
    pthread_attr_t attr;
    start_generation[workers_started + 1] = generation;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, worker_main, (void *)(intptr_t)(workers_started + 1)) != 0) {
      pthread_attr_destroy(&attr);
      threads_wanted = workers_started + 1; /* could not start more: run with what we have */
      return;
    }
    pthread_attr_destroy(&attr);
    workers_started++;
  }
}

void dl_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > DL_MAX_THREADS) n = DL_MAX_THREADS;
  pthread_mutex_lock(&call_mu);
  pthread_mutex_lock(&mu);
  threads_wanted = n;
  pthread_mutex_unlock(&mu);
  pthread_mutex_unlock(&call_mu);
  dl_blas_set_threads(n);
}

int dl_get_threads(void) {
  pthread_mutex_lock(&mu);
  ensure_init();
  int n = threads_wanted;
  pthread_mutex_unlock(&mu);
  return n;
}

void dl_parallel_for(size_t n, size_t min_chunk, dl_range_fn fn, void *ctx) {
  if (n == 0) return;
  if (min_chunk < 1) min_chunk = 1;
  pthread_mutex_lock(&call_mu);
  pthread_mutex_lock(&mu);
  ensure_init();
  size_t parts = n / min_chunk;
  if (parts > (size_t)threads_wanted) parts = (size_t)threads_wanted;
  if (parts <= 1) {
    pthread_mutex_unlock(&mu);
    fn(ctx, 0, n);
    pthread_mutex_unlock(&call_mu);
    return;
  }
  start_workers(threads_wanted);
  if (parts > (size_t)workers_started + 1) parts = (size_t)workers_started + 1;
  job_fn = fn;
  job_ctx = ctx;
  job_n = n;
  job_parts = (int)parts;
  pending = workers_started;
  generation++;
  pthread_cond_broadcast(&start_cv);
  pthread_mutex_unlock(&mu);
  run_part(0);
  pthread_mutex_lock(&mu);
  while (pending > 0) pthread_cond_wait(&done_cv, &mu);
  pthread_mutex_unlock(&mu);
  pthread_mutex_unlock(&call_mu);
}
