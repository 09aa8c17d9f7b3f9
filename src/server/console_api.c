/* HTTP routes of the console below /api: login and logout with the
 * session cookie, the current account, read-only lists (queue, callback
 * requests, failed partner requests, audit log) for scripts and tests,
 * the Dutch labels of the facet ids, and the editor routes (unanswered
 * questions, content reload). Each route checks the session and the role: 401
 * without a valid session, 403 with the wrong role. Also picks the console's
 * pages for http.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "server/console_internal.h"
#include "store/editor.h"
#include "store/handoff.h"

/* Largest accepted request body, in bytes. */
#define API_BODY_MAX 4096
/* Unanswered questions listed on the editor page. */
#define API_UNANSWERED_MAX 200
/* Content errors returned by a failed reload. */
#define API_RELOAD_ERRORS_MAX 100

typedef struct {
    char path[64];
    int post;
    char *body; /* response, owned until written */
    size_t len;
    char request[API_BODY_MAX + 1];
    size_t request_len;
    int too_large;
    /* A content reload this request waits for, and the account that asked
     * for it (for the audit log). */
    int reload_waiting;
    long long reload_account;
    /* A response made outside this connection's callbacks; its headers go
     * out when the connection is writeable. */
    json_t *deferred;
    unsigned int deferred_status;
} api_session_t;

const size_t srv_api_session_size = sizeof(api_session_t);

int console_cookie_token(struct lws *wsi, char *token, size_t size)
{
    char header[1024];
    const char *p;
    size_t name_len = strlen(CONSOLE_COOKIE);

    if (lws_hdr_copy(wsi, header, sizeof header, WSI_TOKEN_HTTP_COOKIE) <= 0)
        return -1;
    for (p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, CONSOLE_COOKIE, name_len) == 0 && p[name_len] == '=') {
            const char *value = p + name_len + 1;
            size_t len = strcspn(value, "; ");
            if (len == 0 || len >= size)
                return -1;
            memcpy(token, value, len);
            token[len] = '\0';
            return 0;
        }
        p = strchr(p, ';');
    }
    return -1;
}

int console_authenticate(struct lws *wsi, srv_t *srv, store_account_t *account,
                         char token[STORE_TOKEN_CHARS + 1])
{
    char found[STORE_TOKEN_CHARS + 2];

    memset(account, 0, sizeof *account);
    if (console_cookie_token(wsi, found, sizeof found) != 0 ||
        store_session_lookup(srv_store(srv), found, (long long)time(NULL),
                             account) != 0)
        return 1;
    /* A valid token is exactly STORE_TOKEN_CHARS long. */
    if (token)
        snprintf(token, STORE_TOKEN_CHARS + 1, "%s", found);
    return 0;
}

int console_same_origin(struct lws *wsi)
{
    char origin[256];
    char host[256];
    const char *rest;

    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) <= 0)
        return 1;
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0)
        return 0;
    if (strncmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    else
        return 0;
    return strcasecmp(rest, host) == 0;
}

const char *srv_console_page(struct lws *wsi, srv_t *srv, const char *uri,
                             const char **redirect)
{
    store_account_t account;
    int console = strcmp(uri, "/console") == 0;

    *redirect = NULL;
    if (strcmp(uri, "/login") == 0)
        return "/login.html";
    if (!console && strcmp(uri, "/editor") != 0)
        return NULL;
    if (console_authenticate(wsi, srv, &account, NULL) != 0) {
        *redirect = "/login";
        return NULL;
    }
    if (console && !store_role_allows(account.role, STORE_ACCESS_QUEUE)) {
        *redirect = "/editor";
        return NULL;
    }
    if (!console && !store_role_allows(account.role, STORE_ACCESS_EDITOR)) {
        *redirect = "/console";
        return NULL;
    }
    return console ? "/console.html" : "/editor.html";
}

/* ---- responses ---- */

static int respond(struct lws *wsi, api_session_t *session, unsigned int status,
                   json_t *value, const char *cookie)
{
    unsigned char buffer[LWS_PRE + 2048];
    unsigned char *start = buffer + LWS_PRE;
    unsigned char *p = start;
    unsigned char *end = buffer + sizeof buffer - 1;
    static const char no_store[] = "no-store";
    static const char nosniff[] = "nosniff";

    session->body = value ? json_dumps(value, JSON_COMPACT) : strdup("");
    json_decref(value);
    if (!session->body)
        return -1;
    session->len = strlen(session->body);
    if (lws_add_http_common_headers(wsi, status, "application/json",
                                    session->len, &p, end) ||
        lws_add_http_header_by_name(
            wsi, (const unsigned char *)"cache-control:",
            (const unsigned char *)no_store, (int)strlen(no_store), &p, end) ||
        lws_add_http_header_by_name(
            wsi, (const unsigned char *)"x-content-type-options:",
            (const unsigned char *)nosniff, (int)strlen(nosniff), &p, end) ||
        (cookie &&
         lws_add_http_header_by_name(wsi, (const unsigned char *)"set-cookie:",
                                     (const unsigned char *)cookie,
                                     (int)strlen(cookie), &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_error(struct lws *wsi, api_session_t *session,
                         unsigned int status, const char *code,
                         const char *message)
{
    return respond(wsi, session, status,
                   json_pack("{s:s,s:s}", "error", code, "message", message),
                   NULL);
}

/* Checks the session and role of a request; responds 401 or 403 itself
 * and returns 1 then. */
static int require(struct lws *wsi, srv_t *srv, api_session_t *session,
                   store_access_t access, store_account_t *account, int *rc)
{
    if (console_authenticate(wsi, srv, account, NULL) != 0) {
        *rc = respond_error(wsi, session, HTTP_STATUS_UNAUTHORIZED,
                            "login_required", "Meld u eerst aan.");
        return 1;
    }
    if (!store_role_allows(account->role, access)) {
        *rc = respond_error(wsi, session, HTTP_STATUS_FORBIDDEN, "forbidden",
                            "U hebt geen toegang tot deze pagina.");
        return 1;
    }
    return 0;
}

/* ---- login rate limit ---- */

static console_login_slot_t *login_slot(console_t *console, const char *address,
                                        long long now)
{
    console_login_slot_t *oldest = &console->logins[0];

    for (size_t i = 0; i < CONSOLE_LOGIN_SLOTS; i++) {
        console_login_slot_t *slot = &console->logins[i];
        if (strcmp(slot->address, address) == 0)
            return slot;
        if (slot->window_start < oldest->window_start)
            oldest = slot;
    }
    /* Reuse the slot whose window started longest ago. */
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->address, sizeof oldest->address, "%s", address);
    oldest->window_start = now;
    return oldest;
}

static int login(struct lws *wsi, srv_t *srv, api_session_t *session)
{
    console_t *console = console_of(srv);
    const cfg_t *cfg = srv_config(srv);
    long long now = (long long)time(NULL);
    char address[64] = "";
    char token[STORE_TOKEN_CHARS + 1];
    char cookie[256];
    store_account_t account;
    console_login_slot_t *slot;
    json_t *request;
    int rc;

    lws_get_peer_simple(wsi, address, sizeof address);
    slot = login_slot(console, address, now);
    if (now - slot->window_start >= 60) {
        slot->window_start = now;
        slot->failures = 0;
    }
    if (slot->failures >= cfg->login_attempts_per_minute) {
        LOG_WARN("console", "login from %s rate-limited", address);
        return respond_error(wsi, session, 429, "too_many_attempts",
                             "Te veel mislukte pogingen. Wacht een minuut en "
                             "probeer het dan opnieuw.");
    }

    request = json_loadb(session->request, session->request_len, 0, NULL);
    if (!json_is_string(json_object_get(request, "name")) ||
        !json_is_string(json_object_get(request, "password"))) {
        json_decref(request);
        return respond_error(wsi, session, HTTP_STATUS_BAD_REQUEST,
                             "invalid_request",
                             "Vul uw naam en wachtwoord in.");
    }
    rc = store_account_verify(
        srv_store(srv), json_string_value(json_object_get(request, "name")),
        json_string_value(json_object_get(request, "password")), &account);
    json_decref(request);
    if (rc != 0) {
        slot->failures++;
        LOG_INFO("console", "failed login from %s", address);
        return respond_error(wsi, session, HTTP_STATUS_UNAUTHORIZED,
                             "invalid_login",
                             "Deze naam en dit wachtwoord horen niet bij "
                             "elkaar. Probeer het opnieuw.");
    }

    if (srv_transaction_begin(srv) != 0 ||
        store_session_create(srv_store(srv), account.id, now,
                             cfg->session_hours, token) != 0 ||
        store_audit_add(srv_store(srv), account.id, "login", NULL, now) != 0 ||
        srv_flush(srv) != 0)
        return respond_error(wsi, session, HTTP_STATUS_INTERNAL_SERVER_ERROR,
                             "storage_error",
                             "Aanmelden lukt nu niet. Probeer het later "
                             "opnieuw.");
    slot->failures = 0;
    LOG_INFO("console", "advisor %lld logged in", account.id);
    snprintf(cookie, sizeof cookie,
             "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d",
             CONSOLE_COOKIE, token, cfg->session_hours * 3600);
    return respond(wsi, session, HTTP_STATUS_OK,
                   json_pack("{s:s,s:s,s:s}", "name", account.name,
                             "display_name", account.display_name, "role",
                             store_role_name(account.role)),
                   cookie);
}

static int logout(struct lws *wsi, srv_t *srv, api_session_t *session)
{
    char token[STORE_TOKEN_CHARS + 2];
    char cookie[128];
    store_account_t account;

    if (console_authenticate(wsi, srv, &account, NULL) == 0 &&
        console_cookie_token(wsi, token, sizeof token) == 0) {
        long long now = (long long)time(NULL);
        if (srv_transaction_begin(srv) == 0) {
            store_session_delete(srv_store(srv), token);
            store_audit_add(srv_store(srv), account.id, "logout", NULL, now);
            srv_flush(srv);
        }
        LOG_INFO("console", "advisor %lld logged out", account.id);
    }
    snprintf(cookie, sizeof cookie,
             "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
             CONSOLE_COOKIE);
    return respond(wsi, session, HTTP_STATUS_OK, json_pack("{s:b}", "ok", 1),
                   cookie);
}

/* Reads the facets file of the lang folder into {"region":
 * {"west-vlaanderen": "West-Vlaanderen", ...}, ...}, so the console shows
 * a label in place of an id. Returns a new reference, or NULL when the
 * file cannot be read. */
static json_t *facet_labels(const cfg_t *cfg)
{
    char path[1024];
    json_error_t error;
    snprintf(path, sizeof path, "%s/facets.json", cfg->lang_dir);
    json_t *facets = json_load_file(path, 0, &error);
    if (!json_is_object(facets)) {
        LOG_WARN("console", "cannot read facet labels from %s: %s", path,
                 facets ? "not a JSON object" : error.text);
        json_decref(facets);
        return NULL;
    }
    json_t *labels = json_object();
    const char *facet;
    json_t *values;
    json_object_foreach(facets, facet, values)
    {
        json_t *map = json_object();
        size_t i;
        json_t *item;
        json_array_foreach(values, i, item)
        {
            const char *id = json_string_value(json_object_get(item, "value"));
            json_t *label = json_object_get(item, "label");
            if (id && json_is_string(label))
                json_object_set(map, id, label);
        }
        json_object_set_new(labels, facet, map);
    }
    json_decref(facets);
    return labels;
}

/* Responds to a GET of a read-only route. */
static int get_route(struct lws *wsi, srv_t *srv, api_session_t *session)
{
    console_t *console = console_of(srv);
    store_account_t account;
    json_t *value = NULL;
    int rc = 0;

    if (strcmp(session->path, "/me") == 0) {
        if (console_authenticate(wsi, srv, &account, NULL) != 0)
            return respond_error(wsi, session, HTTP_STATUS_UNAUTHORIZED,
                                 "login_required", "Meld u eerst aan.");
        return respond(wsi, session, HTTP_STATUS_OK,
                       json_pack("{s:s,s:s,s:s}", "name", account.name,
                                 "display_name", account.display_name, "role",
                                 store_role_name(account.role)),
                       NULL);
    }
    if (strcmp(session->path, "/facets") == 0) {
        /* Every role reads labels: advisors, editors and admins. */
        if (console_authenticate(wsi, srv, &account, NULL) != 0)
            return respond_error(wsi, session, HTTP_STATUS_UNAUTHORIZED,
                                 "login_required", "Meld u eerst aan.");
        value = facet_labels(srv_config(srv));
    } else if (strcmp(session->path, "/audit") == 0) {
        if (require(wsi, srv, session, STORE_ACCESS_ADMIN, &account, &rc))
            return rc;
        json_t *entries = NULL;
        if (store_audit_list(srv_store(srv), 500, &entries) == 0)
            value = json_pack("{s:o}", "entries", entries);
    } else if (strcmp(session->path, "/editor/unanswered") == 0) {
        if (require(wsi, srv, session, STORE_ACCESS_EDITOR, &account, &rc))
            return rc;
        json_t *items = NULL;
        int listed =
            store_unanswered_list(srv_store(srv), API_UNANSWERED_MAX, &items);
        if (listed == 0)
            value = json_pack("{s:o}", "items", items);
    } else if (strcmp(session->path, "/queue") == 0 ||
               strcmp(session->path, "/callbacks") == 0 ||
               strcmp(session->path, "/outbox") == 0) {
        if (require(wsi, srv, session, STORE_ACCESS_QUEUE, &account, &rc))
            return rc;
        if (strcmp(session->path, "/queue") == 0)
            value = console_queue_json(console);
        else if (strcmp(session->path, "/callbacks") == 0)
            value = console_callbacks_json(console);
        else
            value = console_outbox_json(console);
    } else {
        return respond_error(wsi, session, HTTP_STATUS_NOT_FOUND, "not_found",
                             "Deze pagina bestaat niet.");
    }
    if (!value)
        return respond_error(wsi, session, HTTP_STATUS_INTERNAL_SERVER_ERROR,
                             "storage_error",
                             "Deze gegevens konden niet gelezen worden.");
    return respond(wsi, session, HTTP_STATUS_OK, value, NULL);
}

/* Starts a content reload as SIGHUP does; srv_api_reload_done() sends the
 * response when it has finished. A failed reload keeps the running content, and
 * the response lists each error with file, line and column. */
static int reload_content(struct lws *wsi, srv_t *srv, api_session_t *session)
{
    store_account_t account;
    int rc = 0;

    if (require(wsi, srv, session, STORE_ACCESS_EDITOR, &account, &rc))
        return rc;
    LOG_INFO("console", "account %lld asked for a content reload", account.id);
    if (srv_reload_start(srv, wsi) != 0)
        return respond_error(wsi, session, HTTP_STATUS_SERVICE_UNAVAILABLE,
                             "busy",
                             "Er wordt al nieuwe inhoud geladen. Probeer "
                             "het zo opnieuw.");
    session->reload_waiting = 1;
    session->reload_account = account.id;
    /* Loading takes seconds under sanitizers; keep the request open. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 120);
    return 0;
}

void srv_api_reload_done(srv_t *srv, struct lws *wsi, int ok,
                         const content_errors_t *errs)
{
    api_session_t *session = lws_wsi_user(wsi);
    session->reload_waiting = 0;
    if (ok) {
        if (srv_transaction_begin(srv) == 0 &&
            store_audit_add(srv_store(srv), session->reload_account, "reload",
                            NULL, (long long)time(NULL)) == 0)
            srv_flush(srv);
        session->deferred = json_pack("{s:b}", "ok", 1);
        session->deferred_status = HTTP_STATUS_OK;
    } else {
        json_t *errors = json_array();
        for (size_t i = 0; i < errs->count && i < API_RELOAD_ERRORS_MAX; i++) {
            const content_error_t *e = &errs->items[i];
            json_array_append_new(
                errors, json_pack("{s:s,s:i,s:i,s:s,s:s}", "file", e->file,
                                  "line", e->line, "column", e->column,
                                  "message", e->message, "hint", e->hint));
        }
        session->deferred = json_pack(
            "{s:s,s:s,s:I,s:o}", "error", "content_invalid", "message",
            "De inhoud bevat fouten. De vorige versie blijft in gebruik.",
            "count", (json_int_t)errs->count, "errors", errors);
        session->deferred_status = 422;
    }
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    lws_callback_on_writable(wsi);
}

static int post_route(struct lws *wsi, srv_t *srv, api_session_t *session)
{
    if (!console_same_origin(wsi))
        return respond_error(wsi, session, HTTP_STATUS_FORBIDDEN, "forbidden",
                             "Dit verzoek komt van een andere website.");
    if (session->too_large)
        return respond_error(wsi, session, HTTP_STATUS_REQ_ENTITY_TOO_LARGE,
                             "too_large", "Dit verzoek is te groot.");
    if (strcmp(session->path, "/login") == 0)
        return login(wsi, srv, session);
    if (strcmp(session->path, "/logout") == 0)
        return logout(wsi, srv, session);
    if (strcmp(session->path, "/editor/reload") == 0)
        return reload_content(wsi, srv, session);
    return respond_error(wsi, session, HTTP_STATUS_NOT_FOUND, "not_found",
                         "Deze pagina bestaat niet.");
}

/* Returns 1 when a POST announces a body, even an empty one. lws reports
 * no body completion for a POST without Content-Length or
 * Transfer-Encoding, so such a request is handled at once. */
static int has_body(struct lws *wsi)
{
    char length[32];

    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
        return 1;
    return lws_hdr_copy(wsi, length, sizeof length,
                        WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
}

int srv_api_callback(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len)
{
    api_session_t *session = user;
    srv_t *srv = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        memset(session, 0, sizeof *session);
        snprintf(session->path, sizeof session->path, "%s",
                 in ? (const char *)in : "");
        if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0) {
            session->post = 1;
            if (!has_body(wsi))
                return post_route(wsi, srv, session);
            return 0; /* the response follows the complete body */
        }
        if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) == 0) {
            lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL);
            return -1;
        }
        return get_route(wsi, srv, session);
    case LWS_CALLBACK_HTTP_BODY:
        if (session->request_len + len > API_BODY_MAX) {
            session->too_large = 1;
            return 0;
        }
        if (len == 0)
            return 0;
        memcpy(session->request + session->request_len, in, len);
        session->request_len += len;
        session->request[session->request_len] = '\0';
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return post_route(wsi, srv, session);
    case LWS_CALLBACK_HTTP_WRITEABLE: {
        if (session->deferred) {
            json_t *value = session->deferred;
            session->deferred = NULL;
            return respond(wsi, session, session->deferred_status, value, NULL);
        }
        if (!session->body)
            return 0;
        unsigned char *buffer = malloc(LWS_PRE + session->len + 1);
        int n;
        if (!buffer)
            return -1;
        memcpy(buffer + LWS_PRE, session->body, session->len);
        n = lws_write(wsi, buffer + LWS_PRE, session->len,
                      LWS_WRITE_HTTP_FINAL);
        free(buffer);
        free(session->body);
        session->body = NULL;
        if (n < 0)
            return -1;
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
        if (session) {
            if (session->reload_waiting)
                srv_reload_forget(srv, wsi);
            session->reload_waiting = 0;
            json_decref(session->deferred);
            session->deferred = NULL;
            free(session->body);
            session->body = NULL;
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
