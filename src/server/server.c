/* The event loop: start, signals, reload of content, grouped commits,
 * daily purge, and a clean stop. */
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

/* Loads all content; on failure logs each error with file:line:column and
 * keeps the errors in `errs` (the caller frees them). */
static eng_bundle_t *load_content(const cfg_t *cfg, const char *when,
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

/* Swaps in freshly loaded content between two events. The old bundle is
 * freed at once: the loop is single-threaded and no step is running. */
int srv_reload(srv_t *srv, content_errors_t *errs)
{
    eng_bundle_t *fresh = load_content(srv->cfg, "reload", errs);
    if (!fresh) {
        srv->metrics.reload_failures++;
        LOG_WARN("server", "reload failed; the running content stays");
        return -1;
    }
    eng_bundle_t *old = srv->bundle;
    srv->bundle = fresh;
    eng_bundle_free(old);
    srv->metrics.reloads++;
    LOG_INFO("server", "content reloaded");
    return 0;
}

static void reload(srv_t *srv)
{
    content_errors_t errs = {0};
    srv_reload(srv, &errs);
    content_errors_free(&errs);
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

    char root[PATH_MAX];
    if (!realpath(cfg->web_dir, root)) {
        LOG_WARN("server",
                 "web folder %s not found (%s); pages will "
                 "answer 404",
                 cfg->web_dir, strerror(errno));
        snprintf(root, sizeof root, "%s", cfg->web_dir);
    }
    srv->web_root = strdup(root);

    content_errors_t errs = {0};
    srv->bundle = load_content(cfg, "start", &errs);
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

static struct lws_context *listen_on(srv_t *srv, srv_routes_t *routes)
{
    struct lws_context_creation_info info;
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
    lws_set_log_level(getenv("SD_LWS_DEBUG") ? 0x7ff : LLL_ERR, NULL);
    return lws_create_context(&info);
}

static void stop(srv_t *srv)
{
    if (srv->store)
        srv_flush(srv);
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
    srv_t *srv = calloc(1, sizeof *srv);
    if (!srv)
        return 1;
    srv->cfg = cfg;
    srv->bench_echo = options && options->bench_echo;
    srv_routes_t routes;
    if (start(srv)) {
        stop(srv);
        return 1;
    }
    install_signals();
    if (!(srv->context = listen_on(srv, &routes))) {
        LOG_ERROR("server",
                  "cannot listen on %s port %d; is another "
                  "program using it?",
                  cfg->listen, cfg->port);
        stop(srv);
        return 1;
    }
    lws_sul_schedule(srv->context, 0, &srv->purge_timer, purge_timer_fired,
                     PURGE_INTERVAL_US);
    fprintf(stderr, "stemdesk: serving http://%s:%d/\n", cfg->listen,
            cfg->port);
    fflush(stderr);

    double interval = cfg->commit_interval_ms / 1000.0;
    while (!stop_requested) {
        if (lws_service(srv->context, 0) < 0)
            break;
        if (reload_requested) {
            reload_requested = 0;
            reload(srv);
        }
        /* Group the writes of one pass, or of commit_interval_ms, into one
         * commit; the acks of that pass go out after it. */
        if (srv->transaction_started > 0 &&
            srv_now_monotonic() - srv->transaction_started >= interval)
            srv_flush(srv);
    }
    LOG_INFO("server", "stopping on %s",
             stop_requested ? "a signal" : "a service error");
    stop(srv);
    LOG_INFO("server", "stopped");
    return 0;
}
