/* The store's syncer on real SQLite files: commits it reports synced are
 * in the database after the process dies, a sync that cannot reach the
 * write-ahead log is reported as failed, and the log gets checkpointed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

#define NOW 1800000000LL
#define DAY 86400LL

typedef struct {
    char dir[64];
    char path[96];
    store_t *store;
    pthread_mutex_t lock;
    pthread_cond_t woken;
    int wakes;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/stemdesk-syncer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/test.db", f->dir);
    char err[256] = "";
    f->store = store_open(f->path, err, sizeof err);
    if (!f->store)
        fail_msg("store_open: %s", err);
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->woken, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    store_close(f->store);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", f->dir);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    pthread_cond_destroy(&f->woken);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

static void wake(void *arg)
{
    fixture_t *f = arg;
    pthread_mutex_lock(&f->lock);
    f->wakes++;
    pthread_cond_signal(&f->woken);
    pthread_mutex_unlock(&f->lock);
}

/* Waits (at most 5 s) until the syncer reports `generation` done. */
static void wait_synced(fixture_t *f, store_syncer_t *syncer,
                        unsigned long long generation,
                        unsigned long long *failed)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    unsigned long long synced = 0;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        store_syncer_state(syncer, &synced, failed);
        if (synced >= generation)
            break;
        if (pthread_cond_timedwait(&f->woken, &f->lock, &deadline) != 0)
            break;
    }
    pthread_mutex_unlock(&f->lock);
    assert_true(synced >= generation);
}

static json_t *visitor_text(const char *text)
{
    return json_pack("{s:s,s:s}", "from", "visitor", "text", text);
}

/* Appends one visitor message in a transaction of its own. */
static void append(store_t *store, long long conversation,
                   const char *client_id, const char *text)
{
    long long seq;
    json_t *message = visitor_text(text);
    assert_int_equal(store_begin(store), 0);
    assert_int_equal(store_message_append(store, conversation, client_id,
                                          message, NOW, &seq, NULL),
                     0);
    assert_int_equal(store_commit(store), 0);
    json_decref(message);
}

/* Creates a conversation in a transaction of its own. */
static void create_conversation(store_t *store, store_conversation_t *c)
{
    char token[STORE_TOKEN_SIZE];
    assert_int_equal(store_begin(store), 0);
    assert_int_equal(
        store_conversation_create(store, NOW, NOW + 180 * DAY, c, token), 0);
    assert_int_equal(store_commit(store), 0);
}

static int collect(const json_t *message, void *arg)
{
    return json_array_append(arg, (json_t *)message);
}

static void test_synced_commits_survive_the_process(void **state)
{
    fixture_t *f = *state;
    store_conversation_t c;
    create_conversation(f->store, &c);
    store_close(f->store);
    f->store = NULL;

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char err[256];
        store_t *store = store_open(f->path, err, sizeof err);
        store_syncer_t *syncer =
            store ? store_syncer_start(store, wake, f) : NULL;
        if (!syncer)
            _exit(3);
        for (int i = 0; i < 20; i++) {
            char id[16], text[32];
            snprintf(id, sizeof id, "m-%d", i);
            snprintf(text, sizeof text, "bericht %d", i);
            append(store, c.row, id, text);
            unsigned long long failed = 0;
            wait_synced(f, syncer, store_syncer_request(syncer), &failed);
            if (failed)
                _exit(4);
        }
        _exit(0); /* no stop, no close: the process dies here */
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    char err[256] = "";
    f->store = store_open(f->path, err, sizeof err);
    assert_non_null(f->store);
    json_t *all = json_array();
    assert_int_equal(store_messages_after(f->store, c.row, 0, collect, all), 0);
    assert_int_equal(json_array_size(all), 20);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(all, 19), "text")),
        "bericht 19");
    json_decref(all);
}

static void test_requests_are_covered_in_order(void **state)
{
    fixture_t *f = *state;
    store_syncer_t *syncer = store_syncer_start(f->store, wake, f);
    assert_non_null(syncer);
    store_conversation_t c;
    create_conversation(f->store, &c);

    unsigned long long last = 0, failed = 0;
    for (int i = 0; i < 50; i++) {
        char id[16];
        snprintf(id, sizeof id, "g-%d", i);
        append(f->store, c.row, id, "groep");
        unsigned long long generation = store_syncer_request(syncer);
        assert_true(generation > last);
        last = generation;
    }
    wait_synced(f, syncer, last, &failed);
    assert_int_equal(failed, 0);
    pthread_mutex_lock(&f->lock);
    int wakes = f->wakes;
    pthread_mutex_unlock(&f->lock);
    /* One wake per sync, and a sync covers every request before it. */
    assert_true(wakes >= 1);
    assert_true(wakes <= 50);

    /* A sync on the caller's thread covers what was requested. */
    append(f->store, c.row, "g-now", "nu");
    unsigned long long now_generation = store_syncer_request(syncer);
    assert_int_equal(store_syncer_sync_now(syncer), 0);
    unsigned long long synced;
    store_syncer_state(syncer, &synced, &failed);
    assert_true(synced >= now_generation);
    store_syncer_stop(syncer);

    /* The store commits and syncs on its own again after the stop. */
    append(f->store, c.row, "g-after", "daarna");
}

static void test_failed_sync_is_reported(void **state)
{
    fixture_t *f = *state;
    store_syncer_t *syncer = store_syncer_start(f->store, wake, f);
    assert_non_null(syncer);
    store_conversation_t c;
    create_conversation(f->store, &c);

    /* The log file disappears under the store: a sync must not claim the
     * commit reached the disk. */
    char wal[128];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(unlink(wal), 0);
    append(f->store, c.row, "lost-1", "weg");
    unsigned long long failed = 0;
    unsigned long long generation = store_syncer_request(syncer);
    wait_synced(f, syncer, generation, &failed);
    assert_int_equal(failed, generation);
    assert_int_equal(store_syncer_sync_now(syncer), -1);
    store_syncer_stop(syncer);
}

static void test_log_is_checkpointed(void **state)
{
    fixture_t *f = *state;
    store_syncer_t *syncer = store_syncer_start(f->store, wake, f);
    assert_non_null(syncer);
    store_conversation_t c;
    create_conversation(f->store, &c);

    struct stat before, after;
    assert_int_equal(stat(f->path, &before), 0);
    /* Each commit adds a few pages to the log, so 500 of them pass the
     * checkpoint threshold of 1,000 pages. */
    char text[600];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    unsigned long long failed = 0;
    for (int i = 0; i < 500; i++) {
        char id[16];
        snprintf(id, sizeof id, "c-%d", i);
        append(f->store, c.row, id, text);
        wait_synced(f, syncer, store_syncer_request(syncer), &failed);
    }
    assert_int_equal(failed, 0);
    /* The writer's own checkpoint is off, so only the checkpoint thread
     * can copy the rows into the database file. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(stat(f->path, &after), 0);
        if (after.st_size > before.st_size)
            break;
        usleep(20000);
    }
    store_syncer_stop(syncer);
    assert_true(after.st_size > before.st_size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_synced_commits_survive_the_process,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests_are_covered_in_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_sync_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_log_is_checkpointed, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
