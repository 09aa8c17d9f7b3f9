/* The advisor console's part of the server: the /console WebSocket
 * protocol, the /api/ HTTP routes, and the hooks through which the server
 * tells the console what changed. The server lists both protocols and
 * mounts them; the console implements everything declared here in
 * src/server/console*.c. Everything runs on the event-loop thread. */
#ifndef STEMDESK_SERVER_CONSOLE_H
#define STEMDESK_SERVER_CONSOLE_H

#include <stddef.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "server/server.h"

/* The protocol of the /console WebSocket. The server allocates
 * srv_console_session_size bytes of per-session data (the `user`
 * argument), and lws_context_user() of the socket's context is the
 * srv_t. */
int srv_console_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len);
extern const size_t srv_console_session_size;

/* The protocol that handles every HTTP request below /api/ (the path
 * arrives in `in` at LWS_CALLBACK_HTTP, relative to the mount, with the
 * leading "/api" removed by lws). */
int srv_api_callback(struct lws *wsi, enum lws_callback_reasons reason,
                     void *user, void *in, size_t len);
extern const size_t srv_api_session_size;

/* Picks what a GET of a console page (/login, /console, /editor) gets.
 * Returns the file below the web root to serve, or NULL and sets
 * `redirect` to the page to send the browser to: /login without a valid
 * session, the other page for a role that may not see this one. Returns
 * NULL with `redirect` NULL when `uri` is not a console page. */
const char *srv_console_page(struct lws *wsi, srv_t *srv, const char *uri,
                             const char **redirect);

/* Called once after the store is open and the content loaded, before the
 * first connection; returns 0 or -1 to abort the start. */
int srv_console_start(srv_t *srv);
/* Called once at shutdown, before the store closes. */
void srv_console_stop(srv_t *srv);

/* Hands over an effect of a conversation that the console acts on
 * ("escalate", "callback" or "partner"), inside the open write
 * transaction, so that whatever the console writes commits together with
 * the turn. The server has already stored the effect JSON in the effects
 * table and, for "escalate", flagged the conversation waiting. Returns 0,
 * or -1 to fail the turn. */
int srv_console_effect(srv_t *srv, const char *conversation,
                       const json_t *effect, long long now);

/* Called after a commit that added messages to `conversation` (up to
 * `last_seq`) or changed its mode, so that an advisor who follows it
 * live, and the queue view, can be updated. `queue_changed` is 1 when the
 * turn escalated the conversation. */
void srv_console_conversation_changed(srv_t *srv, const char *conversation,
                                      long long last_seq, const char *mode,
                                      int queue_changed);

/* The number of advisors online and available right now, for the
 * engine's escalation policy. */
int srv_console_advisors_online(srv_t *srv);

#endif
