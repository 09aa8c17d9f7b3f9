/* HTTP: the widget's static files with their security and cache headers,
 * /healthz and /metrics. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "server/console.h"
#include "server/server_internal.h"

/* Per-request data of a dynamic response. */
typedef struct {
    char *body;
    size_t len;
    void *api; /* the console's data of a POST /login or /logout */
} http_session_t;

const size_t srv_http_session_size = sizeof(http_session_t);

/* Scripts only from this origin and never inline; sockets to this origin. */
static const char content_security_policy[] =
    "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'";

typedef struct {
    const char *extension;
    const char *type;
    const char *cache;
} file_type_t;

static const file_type_t file_types[] = {
    {".html", "text/html; charset=utf-8", "no-cache"},
    {".js", "text/javascript; charset=utf-8", "max-age=300"},
    {".mjs", "text/javascript; charset=utf-8", "max-age=300"},
    {".css", "text/css; charset=utf-8", "max-age=300"},
    {".json", "application/json", "no-cache"},
    {".svg", "image/svg+xml", "max-age=3600"},
    {".png", "image/png", "max-age=3600"},
    {".jpg", "image/jpeg", "max-age=3600"},
    {".ico", "image/x-icon", "max-age=3600"},
    {".woff2", "font/woff2", "max-age=86400"},
    {".txt", "text/plain; charset=utf-8", "no-cache"},
};

static const file_type_t *file_type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return NULL;
    for (size_t i = 0; i < sizeof file_types / sizeof *file_types; i++)
        if (strcmp(dot, file_types[i].extension) == 0)
            return &file_types[i];
    return NULL;
}

/* Writes the headers that every response carries. */
static int add_security_headers(struct lws *wsi, unsigned char **p,
                                unsigned char *end)
{
    static const char nosniff[] = "nosniff";
    static const char referrer[] = "no-referrer";
    return lws_add_http_header_by_name(
               wsi, (const unsigned char *)"content-security-policy:",
               (const unsigned char *)content_security_policy,
               (int)strlen(content_security_policy), p, end) ||
           lws_add_http_header_by_name(
               wsi, (const unsigned char *)"x-content-type-options:",
               (const unsigned char *)nosniff, (int)strlen(nosniff), p, end) ||
           lws_add_http_header_by_name(
               wsi, (const unsigned char *)"referrer-policy:",
               (const unsigned char *)referrer, (int)strlen(referrer), p, end);
}

/* Starts a response with a body built in memory (taken over); the body is
 * written when the socket becomes writable. */
static int respond(struct lws *wsi, http_session_t *session,
                   unsigned int status, const char *type, char *body)
{
    unsigned char buffer[LWS_PRE + 2048];
    unsigned char *start = buffer + LWS_PRE, *p = start,
                  *end = buffer + sizeof buffer - 1;
    static const char no_store[] = "no-store";

    session->body = body;
    session->len = strlen(body);
    if (lws_add_http_common_headers(wsi, status, type, session->len, &p, end) ||
        add_security_headers(wsi, &p, end) ||
        lws_add_http_header_by_name(
            wsi, (const unsigned char *)"cache-control:",
            (const unsigned char *)no_store, (int)strlen(no_store), &p, end) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int not_found(struct lws *wsi, http_session_t *session)
{
    char *body = strdup("Not found\n");
    return body ? respond(wsi, session, HTTP_STATUS_NOT_FOUND,
                          "text/plain; charset=utf-8", body)
                : -1;
}

static int health(struct lws *wsi, srv_t *srv, http_session_t *session)
{
    long long conversations = 0;
    int ok = store_ping(srv->store) == 0 &&
             store_count_conversations(srv->store, &conversations) == 0;
    json_t *report =
        ok ? json_pack("{s:s,s:s,s:I,s:I}", "status", "ok", "database", "ok",
                       "conversations", (json_int_t)conversations, "sockets",
                       (json_int_t)srv->metrics.sockets_open)
           : json_pack("{s:s,s:s}", "status", "error", "database",
                       "not answering");
    char *body = json_dumps(report, JSON_COMPACT);
    json_decref(report);
    if (!body)
        return -1;
    return respond(wsi, session,
                   ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE,
                   "application/json", body);
}

/* Maps a request path to a file below the web root. Rejects any segment
 * that starts with a dot (so "..", and hidden files), backslashes, and
 * anything whose resolved path leaves the root. Returns 0 and fills
 * `path`, or -1. */
static int resolve_file(srv_t *srv, const char *uri, char *path, size_t size)
{
    char relative[PATH_MAX];
    if (uri[0] != '/' || strstr(uri, "/.") || strchr(uri, '\\'))
        return -1;
    snprintf(relative, sizeof relative, "%s%s", uri,
             uri[strlen(uri) - 1] == '/' ? "index.html" : "");

    char joined[PATH_MAX];
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", srv->web_root,
                         relative) >= sizeof joined)
        return -1;
    char resolved[PATH_MAX];
    if (!realpath(joined, resolved))
        return -1;
    size_t root_len = strlen(srv->web_root);
    if (strncmp(resolved, srv->web_root, root_len) != 0 ||
        resolved[root_len] != '/')
        return -1;
    struct stat st;
    if (stat(resolved, &st) || !S_ISREG(st.st_mode))
        return -1;
    snprintf(path, size, "%s", resolved);
    return 0;
}

static int serve_file(struct lws *wsi, srv_t *srv, http_session_t *session,
                      const char *uri)
{
    char path[PATH_MAX];
    const file_type_t *type;
    if (resolve_file(srv, uri, path, sizeof path) ||
        !(type = file_type_of(path)))
        return not_found(wsi, session);

    unsigned char headers[1024];
    unsigned char *p = headers, *end = headers + sizeof headers;
    if (add_security_headers(wsi, &p, end) ||
        lws_add_http_header_by_name(wsi,
                                    (const unsigned char *)"cache-control:",
                                    (const unsigned char *)type->cache,
                                    (int)strlen(type->cache), &p, end))
        return -1;
    int n = lws_serve_http_file(wsi, path, type->type, (const char *)headers,
                                (int)(p - headers));
    if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
        return -1;
    return 0;
}

/* Hands a POST of /login or /logout to the console's /api handler, with
 * per-request data of its own size: the route's per-session data is
 * sized for sockets and smaller. */
static int start_api_post(struct lws *wsi, http_session_t *session,
                          const char *uri)
{
    session->api = calloc(1, srv_api_session_size);
    if (!session->api)
        return -1;
    return srv_api_callback(wsi, LWS_CALLBACK_HTTP, session->api, (void *)uri,
                            strlen(uri));
}

/* Serves the page of /login, /console or /editor, or redirects to the
 * page the account may see. Returns 0 when `uri` is none of them, else 1
 * with the callback's return value in `rc`. */
static int console_page(struct lws *wsi, srv_t *srv, http_session_t *session,
                        const char *uri, int *rc)
{
    unsigned char buffer[LWS_PRE + 512];
    unsigned char *p = buffer + LWS_PRE;
    unsigned char *end = buffer + sizeof buffer;
    const char *redirect = NULL;
    const char *file = srv_console_page(wsi, srv, uri, &redirect);

    if (!file && !redirect)
        return 0;
    if (file) {
        *rc = serve_file(wsi, srv, session, file);
        return 1;
    }
    if (lws_http_redirect(wsi, HTTP_STATUS_SEE_OTHER,
                          (const unsigned char *)redirect,
                          (int)strlen(redirect), &p, end) < 0)
        *rc = -1;
    else
        *rc = lws_http_transaction_completed(wsi) ? -1 : 0;
    return 1;
}

int srv_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
                      void *user, void *in, size_t len)
{
    http_session_t *session = user;
    srv_t *srv = lws_context_user(lws_get_context(wsi));

    if (session && session->api && reason != LWS_CALLBACK_HTTP) {
        int rc = srv_api_callback(wsi, reason, session->api, in, len);
        if (reason == LWS_CALLBACK_CLOSED_HTTP ||
            reason == LWS_CALLBACK_HTTP_DROP_PROTOCOL) {
            free(session->api);
            session->api = NULL;
        }
        return rc;
    }

    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        const char *uri = in;
        int rc;
        /* A keep-alive connection may carry a POST before this request. */
        if (session->api) {
            srv_api_callback(wsi, LWS_CALLBACK_CLOSED_HTTP, session->api, NULL,
                             0);
            free(session->api);
        }
        memset(session, 0, sizeof *session);
        if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 &&
            (strcmp(uri, "/login") == 0 || strcmp(uri, "/logout") == 0))
            return start_api_post(wsi, session, uri);
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) == 0 &&
            lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) == 0) {
            lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL);
            return -1;
        }
        if (strcmp(uri, "/healthz") == 0)
            return health(wsi, srv, session);
        if (strcmp(uri, "/metrics") == 0) {
            char *body = srv_metrics_render(srv);
            return body ? respond(wsi, session, HTTP_STATUS_OK,
                                  "text/plain; version=0.0.4", body)
                        : -1;
        }
        if (console_page(wsi, srv, session, uri, &rc))
            return rc;
        return serve_file(wsi, srv, session, uri);
    }
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (!session->body)
            return 0;
        size_t size = LWS_PRE + session->len;
        unsigned char *buffer = malloc(size);
        if (!buffer)
            return -1;
        memcpy(buffer + LWS_PRE, session->body, session->len);
        int n = lws_write(wsi, buffer + LWS_PRE, session->len,
                          LWS_WRITE_HTTP_FINAL);
        free(buffer);
        free(session->body);
        session->body = NULL;
        if (n < 0)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (session) {
            free(session->body);
            session->body = NULL;
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
