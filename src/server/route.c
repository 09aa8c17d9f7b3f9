/* The first protocol of the vhost: it receives every HTTP request and
 * every WebSocket upgrade that names no subprotocol, and hands each to the
 * handler of its path. libwebsockets 4.1 binds a WebSocket upgrade to the
 * first protocol whatever the mount, so the path is read at
 * LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION and kept in the per-session
 * data, in front of the handler's own data. */
#include <stddef.h>
#include <string.h>

#include "server/console.h"
#include "server/server_internal.h"

typedef enum {
    ROUTE_HTTP,
    ROUTE_CHAT,
    ROUTE_CONSOLE,
    ROUTE_ECHO,
    ROUTE_NONE
} route_t;

typedef struct {
    route_t route;
    max_align_t data[]; /* the handler's per-session data */
} route_session_t;

size_t srv_route_session_size(void)
{
    size_t size = srv_http_session_size;
    if (sizeof(srv_visitor_t) > size)
        size = sizeof(srv_visitor_t);
    if (srv_console_session_size > size)
        size = srv_console_session_size;
    if (srv_echo_session_size > size)
        size = srv_echo_session_size;
    return sizeof(route_session_t) + size;
}

/* Picks the handler of a WebSocket upgrade from its path. */
static route_t route_of_upgrade(struct lws *wsi)
{
    srv_t *srv = lws_context_user(lws_get_context(wsi));
    char path[64];
    if (lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) <= 0)
        return ROUTE_NONE;
    if (strcmp(path, "/chat") == 0)
        return ROUTE_CHAT;
    if (strcmp(path, "/console") == 0)
        return ROUTE_CONSOLE;
    if (srv->bench_echo && strcmp(path, "/bench-echo") == 0)
        return ROUTE_ECHO;
    return ROUTE_NONE;
}

int srv_route_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len)
{
    route_session_t *session = user;
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        /* The store's syncer made commits durable, or a content reload
         * thread finished. */
        srv_t *srv = lws_context_user(lws_get_context(wsi));
        srv_sync_collect(srv);
        srv_reload_collect(srv);
        return 0;
    }
    if (!session)
        return srv_http_callback(wsi, reason, NULL, in, len);

    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION) {
        session->route = route_of_upgrade(wsi);
        if (session->route == ROUTE_NONE)
            return 1;
    }

    switch (session->route) {
    case ROUTE_CHAT:
        return srv_visitor_callback(wsi, reason, session->data, in, len);
    case ROUTE_CONSOLE:
        return srv_console_callback(wsi, reason, session->data, in, len);
    case ROUTE_ECHO:
        return srv_echo_callback(wsi, reason, session->data, in, len);
    case ROUTE_HTTP:
    case ROUTE_NONE:
    default:
        return srv_http_callback(wsi, reason, session->data, in, len);
    }
}
