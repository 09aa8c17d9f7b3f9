/* Group commit with the fsync off the caller's thread.
 *
 * The writer's connection runs with synchronous=NORMAL, so COMMIT only
 * writes the write-ahead log. A thread of its own then makes those commits
 * durable with one fdatasync() of the log file, which covers every commit
 * written before it started, and tells the caller through its wake
 * callback. The same thread checkpoints the log through a connection of its
 * own (the writer's automatic checkpoint is off), so the fsyncs of a
 * checkpoint do not hold up the writer either.
 *
 * The log file is found by name and checked against its inode before every
 * sync: should SQLite ever replace the file, the new one is opened, so a
 * sync never goes to a file the commits no longer reach. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store_internal.h"

/* A passive checkpoint runs at most this often (seconds). */
#define CHECKPOINT_INTERVAL 1.0

struct store_syncer {
    pthread_t thread;
    pthread_mutex_t lock; /* the counters below */
    pthread_cond_t wanted;
    pthread_mutex_t file_lock;    /* wal_fd, for the thread and sync_now */
    unsigned long long requested; /* generations handed out */
    unsigned long long synced;    /* every generation up to this is done */
    unsigned long long failed;    /* highest generation whose sync failed */
    int stopping;

    char *wal_path;
    int wal_fd;
    sqlite3 *checkpointer;
    double last_checkpoint;

    store_syncer_wake_fn wake;
    void *wake_arg;
};

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Opens the log file again when the name no longer leads to the inode
 * held open. Returns 0, or -1 with errno set. */
static int wal_fd_current(store_syncer_t *s)
{
    struct stat by_name, held;
    if (s->wal_fd >= 0 && stat(s->wal_path, &by_name) == 0 &&
        fstat(s->wal_fd, &held) == 0 && by_name.st_ino == held.st_ino &&
        by_name.st_dev == held.st_dev)
        return 0;
    int fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    s->wal_fd = fd;
    return 0;
}

/* Makes every commit written so far durable. Returns 0 or -1. */
static int sync_log(store_syncer_t *s)
{
    pthread_mutex_lock(&s->file_lock);
    int rc = wal_fd_current(s) != 0 || fdatasync(s->wal_fd) != 0 ? -1 : 0;
    if (rc)
        LOG_ERROR("store", "cannot sync %s: %s", s->wal_path, strerror(errno));
    pthread_mutex_unlock(&s->file_lock);
    return rc;
}

/* Copies the synced log back into the database file now and then; the
 * writer restarts the log from its start once everything is copied. */
static void checkpoint(store_syncer_t *s)
{
    double now = monotonic_seconds();
    if (!s->checkpointer || now - s->last_checkpoint < CHECKPOINT_INTERVAL)
        return;
    s->last_checkpoint = now;
    int rc = sqlite3_wal_checkpoint_v2(s->checkpointer, "main",
                                       SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        LOG_WARN("store", "checkpoint failed: %s",
                 sqlite3_errmsg(s->checkpointer));
}

static void *syncer_main(void *arg)
{
    store_syncer_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stopping && s->synced == s->requested)
            pthread_cond_wait(&s->wanted, &s->lock);
        if (s->synced == s->requested)
            break; /* stopping with nothing left to sync */
        unsigned long long target = s->requested;
        pthread_mutex_unlock(&s->lock);

        int rc = sync_log(s);

        pthread_mutex_lock(&s->lock);
        if (rc != 0)
            s->failed = target;
        s->synced = target;
        pthread_mutex_unlock(&s->lock);
        s->wake(s->wake_arg);
        checkpoint(s);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

store_syncer_t *store_syncer_start(store_t *store, store_syncer_wake_fn wake,
                                   void *wake_arg)
{
    store_syncer_t *s = calloc(1, sizeof *s);
    const char *db_path = sqlite3_db_filename(store->db, "main");
    if (!s || !db_path || !*db_path) {
        LOG_ERROR("store", "cannot start the log syncer: %s",
                  s ? "the database has no file" : "out of memory");
        free(s);
        return NULL;
    }
    s->wal_fd = -1;
    s->wake = wake;
    s->wake_arg = wake_arg;
    size_t size = strlen(db_path) + sizeof "-wal";
    s->wal_path = malloc(size);
    if (s->wal_path)
        snprintf(s->wal_path, size, "%s-wal", db_path);

    /* The log must exist before the first commit is synced: a write
     * transaction that changes nothing creates it. */
    if (!s->wal_path || store_exec(store, "PRAGMA synchronous = NORMAL") ||
        store_exec(store, "PRAGMA wal_autocheckpoint = 0") ||
        store_exec(store, "BEGIN IMMEDIATE; COMMIT") ||
        wal_fd_current(s) != 0) {
        LOG_ERROR("store", "cannot open the write-ahead log %s: %s",
                  s->wal_path ? s->wal_path : "", strerror(errno));
        goto fail;
    }
    if (sqlite3_open_v2(db_path, &s->checkpointer,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        LOG_WARN("store", "no checkpoint connection: %s",
                 s->checkpointer ? sqlite3_errmsg(s->checkpointer)
                                 : "out of memory");
        sqlite3_close(s->checkpointer);
        s->checkpointer = NULL;
    } else {
        sqlite3_busy_timeout(s->checkpointer, 100);
        sqlite3_exec(s->checkpointer, "PRAGMA synchronous = FULL", NULL, NULL,
                     NULL);
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->file_lock, NULL);
    pthread_cond_init(&s->wanted, NULL);
    if (pthread_create(&s->thread, NULL, syncer_main, s) != 0) {
        LOG_ERROR("store", "cannot start the log syncer thread");
        pthread_cond_destroy(&s->wanted);
        pthread_mutex_destroy(&s->file_lock);
        pthread_mutex_destroy(&s->lock);
        goto fail;
    }
    return s;

fail:
    /* The caller falls back to syncing at every commit. */
    store_exec(store, "PRAGMA synchronous = FULL");
    store_exec(store, "PRAGMA wal_autocheckpoint = 1000");
    sqlite3_close(s->checkpointer);
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    free(s->wal_path);
    free(s);
    return NULL;
}

unsigned long long store_syncer_request(store_syncer_t *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned long long generation = ++s->requested;
    pthread_cond_signal(&s->wanted);
    pthread_mutex_unlock(&s->lock);
    return generation;
}

void store_syncer_state(store_syncer_t *s, unsigned long long *synced,
                        unsigned long long *failed)
{
    pthread_mutex_lock(&s->lock);
    *synced = s->synced;
    *failed = s->failed;
    pthread_mutex_unlock(&s->lock);
}

int store_syncer_sync_now(store_syncer_t *s)
{
    /* Every commit requested so far was written before this call, so one
     * sync here covers them all. */
    pthread_mutex_lock(&s->lock);
    unsigned long long target = s->requested;
    pthread_mutex_unlock(&s->lock);
    if (sync_log(s) != 0)
        return -1;
    pthread_mutex_lock(&s->lock);
    if (s->synced < target)
        s->synced = target;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void store_syncer_stop(store_syncer_t *s, store_t *store)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->wanted);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wanted);
    pthread_mutex_destroy(&s->file_lock);
    pthread_mutex_destroy(&s->lock);
    sqlite3_close(s->checkpointer);
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    free(s->wal_path);
    free(s);
    if (store) {
        store_exec(store, "PRAGMA synchronous = FULL");
        store_exec(store, "PRAGMA wal_autocheckpoint = 1000");
    }
}
