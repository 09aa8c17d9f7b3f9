/* Group commit with the fsync off the caller's thread.
 *
 * The writer's connection runs with synchronous=NORMAL, so COMMIT only
 * writes the write-ahead log. A thread of its own then makes those commits
 * durable with one fdatasync() of the log file, which covers every commit
 * written before it started, and then calls the caller's wake callback. A
 * second thread checkpoints the log through a connection of its own once it
 * holds CHECKPOINT_FRAMES pages (the writer's automatic checkpoint is off), so
 * neither the writer nor the syncs wait for the fsyncs of a checkpoint.
 *
 * The log file is found by name and checked against its inode before every
 * sync: should SQLite ever replace the file, the new one is opened, so a
 * sync never goes to a file the commits no longer reach. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store_internal.h"

/* Log size in pages that starts a checkpoint (SQLite's own default for
 * wal_autocheckpoint), and how often it is checked, in seconds. */
#define CHECKPOINT_FRAMES 1000
#define CHECKPOINT_POLL 0.1

struct store_syncer {
    pthread_t thread;
    pthread_mutex_t lock;          /* the counters below */
    pthread_cond_t requested_cond; /* signalled when `requested` grows */
    pthread_mutex_t file_lock;     /* wal_fd, for the thread and sync_now */
    unsigned long long requested;  /* generations handed out */
    unsigned long long synced;     /* every generation up to this is done */
    unsigned long long failed;     /* highest generation whose sync failed */
    int stopping;

    char *wal_path;
    int wal_fd;

    pthread_t checkpoint_thread;
    pthread_cond_t stop; /* signalled, with `lock` held, on stopping */
    sqlite3 *checkpointer;
    _Atomic int wal_frames; /* pages in the log after the last commit */
    store_t *store;
    int writer_level; /* the writer's synchronous level before the start */

    store_syncer_wake_fn wake;
    void *wake_arg;
};

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

/* Records, as the writer's log hook, how many pages the log contains. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    store_syncer_t *s = arg;
    atomic_store(&s->wal_frames, frames);
    return SQLITE_OK;
}

/* Copies the log back into the database file whenever it has grown past
 * CHECKPOINT_FRAMES; the writer then restarts the log from its start. A
 * passive checkpoint syncs the log before it copies, syncs the database
 * file after, and does not wait for the writer. */
static void *checkpoint_main(void *arg)
{
    store_syncer_t *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(CHECKPOINT_POLL * 1e9);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->stop, &s->lock, &until);
        if (s->stopping || atomic_load(&s->wal_frames) < CHECKPOINT_FRAMES)
            continue;
        pthread_mutex_unlock(&s->lock);
        int log_pages = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(s->checkpointer, "main",
                                           SQLITE_CHECKPOINT_PASSIVE,
                                           &log_pages, &copied);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            LOG_WARN("store", "checkpoint failed: %s",
                     sqlite3_errmsg(s->checkpointer));
        else if (rc == SQLITE_OK && copied == log_pages)
            atomic_store(&s->wal_frames, 0);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void *syncer_main(void *arg)
{
    store_syncer_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stopping && s->synced == s->requested)
            pthread_cond_wait(&s->requested_cond, &s->lock);
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
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Reads the connection's synchronous level, 2 (FULL) when unknown. */
static int synchronous_level(store_t *store)
{
    sqlite3_stmt *stmt;
    int level = 2;
    if (sqlite3_prepare_v2(store->db, "PRAGMA synchronous", -1, &stmt, NULL) !=
        SQLITE_OK)
        return level;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        level = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return level;
}

/* Gives the writer back its own checkpoints and sync level. */
static void restore_writer(store_syncer_t *s)
{
    char sql[48];
    sqlite3_wal_autocheckpoint(s->store->db, CHECKPOINT_FRAMES);
    snprintf(sql, sizeof sql, "PRAGMA synchronous = %d", s->writer_level);
    store_exec(s->store, sql);
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
    s->store = store;
    s->wal_fd = -1;
    s->wake = wake;
    s->wake_arg = wake_arg;
    s->writer_level = synchronous_level(store);
    size_t size = strlen(db_path) + sizeof "-wal";
    s->wal_path = malloc(size);
    if (s->wal_path)
        snprintf(s->wal_path, size, "%s-wal", db_path);

    /* The log must exist before the first commit is synced: a write
     * transaction that changes nothing creates it. */
    if (!s->wal_path || store_exec(store, "BEGIN IMMEDIATE; COMMIT") ||
        wal_fd_current(s) != 0) {
        LOG_ERROR("store", "cannot open the write-ahead log %s: %s",
                  s->wal_path ? s->wal_path : "", strerror(errno));
        goto fail;
    }
    if (sqlite3_open_v2(db_path, &s->checkpointer,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(s->checkpointer, "PRAGMA synchronous = FULL", NULL, NULL,
                     NULL) != SQLITE_OK) {
        LOG_ERROR("store", "cannot open the checkpoint connection: %s",
                  s->checkpointer ? sqlite3_errmsg(s->checkpointer)
                                  : "out of memory");
        goto fail;
    }
    if (store_exec(store, "PRAGMA synchronous = NORMAL"))
        goto fail;
    /* Replaces the writer's automatic checkpoint. */
    sqlite3_wal_hook(store->db, wal_hook, s);

    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->file_lock, NULL);
    pthread_cond_init(&s->requested_cond, NULL);
    pthread_cond_init(&s->stop, NULL);
    if (pthread_create(&s->thread, NULL, syncer_main, s) != 0) {
        LOG_ERROR("store", "cannot start the log syncer thread");
        goto fail_locks;
    }
    if (pthread_create(&s->checkpoint_thread, NULL, checkpoint_main, s) != 0) {
        LOG_ERROR("store", "cannot start the checkpoint thread");
        pthread_mutex_lock(&s->lock);
        s->stopping = 1;
        pthread_cond_signal(&s->requested_cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        goto fail_locks;
    }
    return s;

fail_locks:
    pthread_cond_destroy(&s->stop);
    pthread_cond_destroy(&s->requested_cond);
    pthread_mutex_destroy(&s->file_lock);
    pthread_mutex_destroy(&s->lock);
fail:
    /* The writer keeps syncing and checkpointing on its own. */
    restore_writer(s);
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
    pthread_cond_signal(&s->requested_cond);
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

void store_syncer_stop(store_syncer_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->requested_cond);
    pthread_cond_signal(&s->stop);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_join(s->checkpoint_thread, NULL);
    pthread_cond_destroy(&s->stop);
    pthread_cond_destroy(&s->requested_cond);
    pthread_mutex_destroy(&s->file_lock);
    pthread_mutex_destroy(&s->lock);
    restore_writer(s);
    sqlite3_close(s->checkpointer);
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    free(s->wal_path);
    free(s);
}
