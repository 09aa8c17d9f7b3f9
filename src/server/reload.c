/* Content reloads on a thread of their own. Loading the content trains the
 * intent model and indexes the knowledge base. That takes a fraction of a
 * second, or seconds under sanitizers, and every socket would wait for it
 * on the event loop. The thread loads into a new bundle and wakes the
 * loop. The loop swaps the bundle in between two events, so the bundle never
 * changes during an engine step. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/server_internal.h"

/* Console requests that can wait for one load. */
#define RELOAD_WAITERS_MAX 8

struct srv_reload {
    pthread_t thread;
    int running;          /* a thread was started and not yet joined */
    atomic_int done;      /* set by the thread when its load has finished */
    srv_t *srv;           /* read by the thread: cfg and context only */
    eng_bundle_t *bundle; /* the load's result; NULL when it failed */
    content_errors_t errs;
    /* Requests that get the result of the running load, and those that
     * came while it ran. The files may have changed after it started, so
     * the later ones get a load of their own. */
    struct lws *waiting[RELOAD_WAITERS_MAX];
    size_t waiting_count;
    struct lws *next[RELOAD_WAITERS_MAX];
    size_t next_count;
    int again; /* a request came while the load ran */
};

static void *load(void *arg)
{
    srv_reload_t *r = arg;
    r->bundle = srv_load_content(r->srv->cfg, "reload", &r->errs);
    atomic_store(&r->done, 1);
    lws_cancel_service(r->srv->context);
    return NULL;
}

static int start_thread(srv_reload_t *r)
{
    atomic_store(&r->done, 0);
    r->bundle = NULL;
    memset(&r->errs, 0, sizeof r->errs);
    if (pthread_create(&r->thread, NULL, load, r) != 0) {
        LOG_ERROR("server", "reload: the loading thread did not start");
        return -1;
    }
    r->running = 1;
    return 0;
}

int srv_reload_start(srv_t *srv, struct lws *wsi)
{
    if (!srv->reload) {
        srv->reload = calloc(1, sizeof *srv->reload);
        if (!srv->reload)
            return -1;
        srv->reload->srv = srv;
    }
    srv_reload_t *r = srv->reload;
    if (r->running) {
        if (wsi && r->next_count == RELOAD_WAITERS_MAX)
            return -1;
        if (wsi)
            r->next[r->next_count++] = wsi;
        r->again = 1;
        return 0;
    }
    if (start_thread(r) != 0)
        return -1;
    r->waiting_count = 0;
    if (wsi)
        r->waiting[r->waiting_count++] = wsi;
    return 0;
}

void srv_reload_collect(srv_t *srv)
{
    srv_reload_t *r = srv->reload;
    if (!r || !r->running || !atomic_load(&r->done))
        return;
    pthread_join(r->thread, NULL);
    r->running = 0;

    int ok = r->bundle != NULL;
    if (ok) {
        eng_bundle_t *old = srv->bundle;
        srv->bundle = r->bundle;
        eng_bundle_free(old);
        srv->metrics.reloads++;
        LOG_INFO("server", "content reloaded");
    } else {
        srv->metrics.reload_failures++;
        LOG_WARN("server", "reload failed; the running content stays");
    }
    for (size_t i = 0; i < r->waiting_count; i++)
        srv_api_reload_done(srv, r->waiting[i], ok, &r->errs);
    content_errors_free(&r->errs);
    r->bundle = NULL;
    r->waiting_count = 0;

    if (r->again) {
        r->again = 0;
        memcpy(r->waiting, r->next, r->next_count * sizeof *r->next);
        r->waiting_count = r->next_count;
        r->next_count = 0;
        if (start_thread(r) != 0) {
            content_errors_t none = {0};
            for (size_t i = 0; i < r->waiting_count; i++)
                srv_api_reload_done(srv, r->waiting[i], 0, &none);
            r->waiting_count = 0;
        }
    }
}

/* Removes `wsi` from `list` of `*count` entries. */
static void remove_socket(struct lws **list, size_t *count, struct lws *wsi)
{
    for (size_t i = 0; i < *count; i++)
        if (list[i] == wsi) {
            list[i] = list[--*count];
            return;
        }
}

void srv_reload_forget(srv_t *srv, struct lws *wsi)
{
    if (!srv->reload)
        return;
    remove_socket(srv->reload->waiting, &srv->reload->waiting_count, wsi);
    remove_socket(srv->reload->next, &srv->reload->next_count, wsi);
}

void srv_reload_stop(srv_t *srv)
{
    srv_reload_t *r = srv->reload;
    if (!r)
        return;
    if (r->running) {
        pthread_join(r->thread, NULL);
        eng_bundle_free(r->bundle);
        content_errors_free(&r->errs);
    }
    free(r);
    srv->reload = NULL;
}
