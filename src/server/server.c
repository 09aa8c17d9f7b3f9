/* The event loop: start, signals, reload of content, grouped commits,
 * daily purge, and a clean stop. By default the loop is libev on epoll, so a
 * wake-up costs the active sockets only. With event_loop "poll" it is the
 * poll() loop of libwebsockets, which checks every open socket on each
 * wake-up. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <ev.h>

#include "common/log.h"
#include "server/console.h"
#include "server/server_internal.h"

#define PURGE_INTERVAL_US (24LL * 3600 * 1000000)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_signal(int signal_number)
{
    if (signal_number == SIGHUP)
        reload_requested = 1;
    else
        stop_requested = 1;
}

const cfg_t *srv_config(srv_t *srv)
{
    return srv->cfg;
}

store_t *srv_store(srv_t *srv)
{
    return srv->store;
}

const eng_content_t *srv_content(srv_t *srv)
{
    return &srv->bundle->content;
}

void *srv_console_data(srv_t *srv)
{
    return srv->console;
}

void srv_set_console_data(srv_t *srv, void *data)
{
    srv->console = data;
}

eng_bundle_t *srv_load_content(const cfg_t *cfg, const char *when,
                               content_errors_t *errs)
{
    eng_bundle_t *bundle = eng_bundle_load(cfg->intents_dir, cfg->lang_dir,
                                           cfg->kb_dir, cfg->dialogs_dir, errs);
    if (!bundle) {
        LOG_ERROR("server",
                  "%s: content failed to load with %zu error(s); "
                  "run 'stemdesk check' for the details",
                  when, errs->count);
        for (size_t i = 0; i < errs->count; i++)
            LOG_ERROR("server", "%s:%d:%d: %s", errs->items[i].file,
                      errs->items[i].line, errs->items[i].column,
                      errs->items[i].message);
    }
    return bundle;
}

static void reload(srv_t *srv)
{
    if (srv_reload_start(srv, NULL) != 0)
        LOG_ERROR("server", "reload did not start; the running content stays");
}

static void purge(srv_t *srv)
{
    long long before =
        (long long)time(NULL) - (long long)srv->cfg->retention_days * 86400;
    long long count = 0;
    if (srv_flush(srv) == 0 && store_purge(srv->store, before, &count) == 0)
        LOG_INFO("server",
                 "purge removed %lld conversation(s) older than "
                 "%d days",
                 count, srv->cfg->retention_days);
}

static void purge_timer_fired(lws_sorted_usec_list_t *sul)
{
    srv_t *srv = lws_container_of(sul, srv_t, purge_timer);
    purge(srv);
    lws_sul_schedule(srv->context, 0, &srv->purge_timer, purge_timer_fired,
                     PURGE_INTERVAL_US);
}

/* Creates the folder of the database file when it is missing. */
static int make_parent_folder(const char *path)
{
    char folder[PATH_MAX];
    snprintf(folder, sizeof folder, "%s", path);
    char *slash = strrchr(folder, '/');
    if (!slash || slash == folder)
        return 0;
    *slash = '\0';
    if (mkdir(folder, 0700) && errno != EEXIST) {
        LOG_ERROR("server", "cannot create folder %s for the database: %s",
                  folder, strerror(errno));
        return -1;
    }
    return 0;
}

/* Raises the soft limit of open files to the hard limit, so that the
 * server can hold max_sockets sockets. */
static void raise_file_limit(const cfg_t *cfg)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit))
        return;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < (rlim_t)cfg->max_sockets)
        LOG_WARN("server",
                 "open-file limit %llu is below max_sockets %d; "
                 "raise it with ulimit -n",
                 (unsigned long long)limit.rlim_cur, cfg->max_sockets);
}

static void install_signals(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGHUP, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The protocols and mounts of the vhost, kept alive while it runs. */
typedef struct {
    struct lws_protocols protocols[3];
    struct lws_http_mount mounts[1];
} srv_routes_t;

static void mount(struct lws_http_mount *m, const char *path,
                  const char *protocol, const struct lws_http_mount *next)
{
    memset(m, 0, sizeof *m);
    m->mount_next = next;
    m->mountpoint = path;
    m->mountpoint_len = (unsigned char)strlen(path);
    m->origin = protocol;
    m->protocol = protocol;
    m->origin_protocol = LWSMPRO_CALLBACK;
}

static void build_routes(srv_routes_t *routes, const srv_t *srv)
{
    struct lws_protocols *p = routes->protocols;
    memset(routes, 0, sizeof *routes);
    /* lws keeps a receive buffer of rx_buffer_size bytes per socket;
     * larger frames arrive in pieces that visitor.c joins, up to
     * max_frame_bytes. */
    size_t rx_buffer = srv->cfg->max_frame_bytes < 1024
                           ? (size_t)srv->cfg->max_frame_bytes
                           : 1024;
    p[0].name = "http";
    p[0].callback = srv_route_callback;
    p[0].per_session_data_size = srv_route_session_size();
    p[0].rx_buffer_size = rx_buffer;
    p[1] = (struct lws_protocols){
        "stemdesk-api", srv_api_callback, srv_api_session_size, 0, 0, NULL, 0};

    /* WebSocket paths are routed by srv_route_callback(); only the HTTP
     * routes of the console have a mount. */
    mount(&routes->mounts[0], "/api", "stemdesk-api", NULL);
}

/* Opens everything the server needs before it listens. */
static int start(srv_t *srv)
{
    const cfg_t *cfg = srv->cfg;
    /* Each pass frees most of what it allocated; without a high trim
     * threshold glibc returns the top of the heap to the kernel and asks
     * for it again on the next pass, which cost 15% of a turn in the
     * server benchmark. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    setenv("TZ", cfg->timezone, 1);
    tzset();
    raise_file_limit(cfg);

    /* Without its web folder the desk would serve no widget and no
     * console, so a wrong --web-dir stops it like a wrong content folder. */
    char root[PATH_MAX];
    struct stat info;
    const char *problem = NULL;
    if (!realpath(cfg->web_dir, root))
        problem = strerror(errno);
    else if (stat(root, &info) != 0 || !S_ISDIR(info.st_mode))
        problem = "not a folder";
    if (problem) {
        LOG_ERROR("server",
                  "web_dir (--web-dir) \"%s\" cannot be served: %s; give "
                  "the folder of the widget and console pages, such as "
                  "./web-widget from the repository root",
                  cfg->web_dir, problem);
        return -1;
    }
    srv->web_root = strdup(root);

    content_errors_t errs = {0};
    srv->bundle = srv_load_content(cfg, "start", &errs);
    content_errors_free(&errs);
    if (!srv->bundle)
        return -1;
    char err[512] = "";
    if (make_parent_folder(cfg->db_path))
        return -1;
    int full = strcmp(cfg->db_synchronous, "full") == 0;
    if (!full && strcmp(cfg->db_synchronous, "normal") != 0) {
        LOG_ERROR("server",
                  "db_synchronous is \"%s\"; expected \"full\" "
                  "or \"normal\"",
                  cfg->db_synchronous);
        return -1;
    }
    if (!(srv->store = store_open(cfg->db_path, err, sizeof err))) {
        LOG_ERROR("server", "%s", err);
        return -1;
    }
    if (store_set_synchronous(srv->store, full))
        return -1;
    purge(srv);
    return srv_console_start(srv);
}

/* The libev loop and the watchers the server adds to it.
 *
 * NOTE: the libev plugin of libwebsockets 4.1.6 re-arms its only timer with
 * ev_timer_set() while that timer may still be active, so libev keeps the
 * old deadline. A lws_sul scheduled sooner than the armed deadline (the
 * commit timer after the 24-hour purge timer) then fires only at the next
 * socket event or at the old deadline. The commit therefore has a libev
 * timer of its own (`commit_wake`), and a one-second lws_sul (`heartbeat`)
 * keeps every other lws_sul at most one second late. */
typedef struct {
    struct ev_loop *loop;
    ev_signal signals[3];
    ev_prepare pass_end;
    ev_timer commit_wake;
    lws_sorted_usec_list_t heartbeat;
    srv_t *srv;
} srv_evloop_t;

static void evloop_signal(struct ev_loop *loop, ev_signal *watcher, int revents)
{
    (void)revents;
    srv_evloop_t *ev = watcher->data;
    if (watcher->signum == SIGHUP) {
        reload(ev->srv);
        return;
    }
    stop_requested = 1;
    ev_break(loop, EVBREAK_ALL);
}

/* Runs after the callbacks of one wake-up, before the loop waits again. */
static void evloop_pass_end(struct ev_loop *loop, ev_prepare *watcher,
                            int revents)
{
    (void)revents;
    srv_evloop_t *ev = watcher->data;
    srv_t *srv = ev->srv;
    /* The writes of one pass, or of commit_interval_ms, go into one
     * commit. While the syncer has a commit, its end wakes the loop. */
    if (srv_commit_due(srv) || srv->transaction_started <= 0)
        return;
    /* Wake up when the open transaction is due, whatever lws has armed. */
    double due = srv->transaction_started +
                 srv->cfg->commit_interval_ms / 1000.0 - srv_now_monotonic();
    ev_timer_stop(loop, &ev->commit_wake);
    ev_timer_set(&ev->commit_wake, due > 0 ? due : 0, 0);
    ev_timer_start(loop, &ev->commit_wake);
}

/* Only wakes the loop: evloop_pass_end() commits before it waits again. */
static void evloop_commit_wake(struct ev_loop *loop, ev_timer *watcher,
                               int revents)
{
    (void)loop;
    (void)watcher;
    (void)revents;
}

static void evloop_heartbeat(lws_sorted_usec_list_t *sul)
{
    srv_evloop_t *ev = lws_container_of(sul, srv_evloop_t, heartbeat);
    lws_sul_schedule(ev->srv->context, 0, &ev->heartbeat, evloop_heartbeat,
                     LWS_US_PER_SEC);
}

/* Creates the libev loop on epoll, or on the best backend libev has.
 * Returns 0, or -1 with the error logged. */
static int evloop_open(srv_evloop_t *ev, srv_t *srv)
{
    static const int signals[3] = {SIGINT, SIGTERM, SIGHUP};
    memset(ev, 0, sizeof *ev);
    ev->srv = srv;
    ev->loop = ev_loop_new(EVBACKEND_EPOLL);
    if (!ev->loop)
        ev->loop = ev_loop_new(EVFLAG_AUTO);
    if (!ev->loop) {
        LOG_ERROR("server", "cannot create the libev event loop; "
                            "set event_loop to \"poll\"");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        ev_signal_init(&ev->signals[i], evloop_signal, signals[i]);
        ev->signals[i].data = ev;
        ev_signal_start(ev->loop, &ev->signals[i]);
    }
    ev_prepare_init(&ev->pass_end, evloop_pass_end);
    ev->pass_end.data = ev;
    ev_prepare_start(ev->loop, &ev->pass_end);
    ev_timer_init(&ev->commit_wake, evloop_commit_wake, 0, 0);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Stops the server's watchers; the signals go back to the flag handler
 * so that a second signal during the stop does not kill the process. */
static void evloop_stop_watchers(srv_evloop_t *ev)
{
    if (!ev->loop)
        return;
    for (int i = 0; i < 3; i++)
        ev_signal_stop(ev->loop, &ev->signals[i]);
    ev_prepare_stop(ev->loop, &ev->pass_end);
    ev_timer_stop(ev->loop, &ev->commit_wake);
    lws_sul_cancel(&ev->heartbeat);
    install_signals();
}

/* Frees the loop; call after lws_context_destroy(). */
static void evloop_close(srv_evloop_t *ev)
{
    if (!ev->loop)
        return;
    ev_loop_destroy(ev->loop);
    ev->loop = NULL;
}

/* Reads event_loop: 1 for libev on epoll, 0 for poll(), -1 when unknown. */
static int wants_epoll(const cfg_t *cfg)
{
    const char *name = cfg->event_loop ? cfg->event_loop : "epoll";
    if (!strcmp(name, "epoll") || !strcmp(name, "libev"))
        return 1;
    if (!strcmp(name, "poll"))
        return 0;
    LOG_ERROR("server", "event_loop is \"%s\"; expected \"epoll\" or \"poll\"",
              name);
    return -1;
}

/* Writes a libwebsockets log line through the desk's log, so that it has
 * the same UTC time stamp and form as every other line. */
static void lws_log(int level, const char *line)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    /* lws starts a line with its own time stamp and level letter, as in
     * "[2026/12/04 21:51:34:4100] E: ". */
    const char *text = strstr(line, ": ");
    text = text && (size_t)(text - line) < 40 ? text + 2 : line;
    int text_len = (int)(len - (size_t)(text - line));
    if (text_len < 0)
        text_len = 0;
    if (level & LLL_ERR)
        LOG_ERROR("lws", "%.*s", text_len, text);
    else if (level & LLL_WARN)
        LOG_WARN("lws", "%.*s", text_len, text);
    else
        LOG_DEBUG("lws", "%.*s", text_len, text);
}

static struct lws_context *listen_on(srv_t *srv, srv_routes_t *routes,
                                     struct ev_loop *loop)
{
    struct lws_context_creation_info info;
    void *foreign_loops[1] = {loop};
    memset(&info, 0, sizeof info);
    build_routes(routes, srv);
    info.port = srv->cfg->port;
    info.iface = srv->cfg->listen;
    info.protocols = routes->protocols;
    info.mounts = routes->mounts;
    info.user = srv;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.timeout_secs = 20;
    info.vhost_name = "stemdesk";
    if (loop) {
        /* The server owns the loop, so that its watchers for signals and
         * for the end of each pass run on it too. */
        info.options |= LWS_SERVER_OPTION_LIBEV;
        info.foreign_loops = foreign_loops;
    }
    lws_set_log_level(getenv("SD_LWS_DEBUG") ? 0x7ff : LLL_ERR, lws_log);
    return lws_create_context(&info);
}

/* Called by the store's syncer thread; LWS_CALLBACK_EVENT_WAIT_CANCELLED
 * then runs srv_sync_collect() on the loop. */
static void wake_loop(void *arg)
{
    srv_t *srv = arg;
    lws_cancel_service(srv->context);
}

static void stop(srv_t *srv)
{
    if (srv->store)
        srv_flush(srv);
    store_syncer_stop(srv->syncer);
    srv->syncer = NULL;
    srv_reload_stop(srv);
    if (srv->context) {
        lws_sul_cancel(&srv->commit_timer);
        lws_sul_cancel(&srv->purge_timer);
        lws_context_destroy(srv->context); /* closes every socket */
        srv->context = NULL;
    }
    if (srv->store) {
        srv_flush(srv);
        srv_console_stop(srv);
    }
    store_close(srv->store);
    eng_bundle_free(srv->bundle);
    for (size_t i = 0; i < SRV_ADDRESS_BUCKETS; i++) {
        while (srv->addresses[i]) {
            srv_address_t *next = srv->addresses[i]->next;
            free(srv->addresses[i]);
            srv->addresses[i] = next;
        }
    }
    free(srv->web_root);
    free(srv);
}

int srv_run(const cfg_t *cfg, const srv_options_t *options)
{
    int epoll = wants_epoll(cfg);
    if (epoll < 0)
        return 1;
    srv_t *srv = calloc(1, sizeof *srv);
    if (!srv)
        return 1;
    srv->cfg = cfg;
    srv->bench_echo = options && options->bench_echo;
    srv_routes_t routes;
    srv_evloop_t ev = {0};
    if (start(srv)) {
        stop(srv);
        return 1;
    }
    if (epoll) {
        if (evloop_open(&ev, srv)) {
            stop(srv);
            return 1;
        }
    } else {
        install_signals();
    }
    if (!(srv->context = listen_on(srv, &routes, ev.loop))) {
        LOG_ERROR("server",
                  "cannot listen on %s port %d; is another "
                  "program using it?",
                  cfg->listen, cfg->port);
        evloop_stop_watchers(&ev);
        stop(srv);
        evloop_close(&ev);
        return 1;
    }
    lws_sul_schedule(srv->context, 0, &srv->purge_timer, purge_timer_fired,
                     PURGE_INTERVAL_US);
    /* Checkpoints, and with db_synchronous "full" the fsync of each
     * commit, run on threads of the store's syncer. */
    srv->syncer = store_syncer_start(srv->store, wake_loop, srv);
    srv->sync_commits = srv->syncer && !strcmp(cfg->db_synchronous, "full");
    if (!srv->syncer)
        LOG_WARN("server", "the store's syncer did not start; commits "
                           "sync and checkpoint on the event loop");
    fprintf(stderr, "stemdesk: serving http://%s:%d/\n", cfg->listen,
            cfg->port);
    fflush(stderr);

    if (epoll) {
        evloop_heartbeat(&ev.heartbeat);
        ev_run(ev.loop, 0);
        evloop_stop_watchers(&ev);
    } else {
        while (!stop_requested) {
            if (lws_service(srv->context, 0) < 0)
                break;
            if (reload_requested) {
                reload_requested = 0;
                reload(srv);
            }
            srv_commit_due(srv);
        }
    }
    LOG_INFO("server", "stopping on %s (%s loop)",
             stop_requested ? "a signal" : "a service error",
             epoll ? "epoll" : "poll");
    stop(srv);
    evloop_close(&ev);
    LOG_INFO("server", "stopped");
    return 0;
}
