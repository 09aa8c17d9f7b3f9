/* The stemdesk server: one libwebsockets event loop that serves the
 * widget's files, the visitor socket /chat, the advisor console, /healthz
 * and /metrics, on top of the store and the dialogue engine.
 *
 * Besides srv_run(), this header is the interface that the console code
 * (src/server/console.c) uses to act on conversations. Every function here
 * runs on the event-loop thread. */
#ifndef STEMDESK_SERVER_H
#define STEMDESK_SERVER_H

#include <jansson.h>

#include "common/config.h"
#include "engine/engine.h"
#include "store/store.h"

typedef struct srv srv_t;

typedef struct {
    /* Serves a bare echo socket at /bench-echo, the baseline of the server
     * benchmark. Off in normal use. */
    int bench_echo;
} srv_options_t;

/* Runs the server until SIGINT or SIGTERM. Loads content from the
 * folders in `cfg`, opens (and creates) the database, listens, and on
 * SIGHUP reloads the content. Returns the process exit status: 0 after a
 * clean stop, 1 when it could not start. */
int srv_run(const cfg_t *cfg, const srv_options_t *options);

/* The settings, store and content the server runs with. The content
 * changes on reload, so do not keep the pointer across events. */
const cfg_t *srv_config(srv_t *srv);
store_t *srv_store(srv_t *srv);
const eng_content_t *srv_content(srv_t *srv);

/* A slot for the console's own data; the server only stores the pointer. */
void *srv_console_data(srv_t *srv);
void srv_set_console_data(srv_t *srv, void *data);

/* Applies an event from the console (ENG_EV_ADVISOR_JOINED,
 * ENG_EV_ADVISOR_TEXT, ENG_EV_ADVISOR_RELEASED, ENG_EV_CLOSED or
 * ENG_EV_ADVISOR_TIMEOUT) to the conversation with public id
 * `conversation`: runs eng_step, stores the new state, messages and
 * effects in the open write transaction, and sends the messages and any
 * status change to the visitor's open sockets once that transaction
 * commits. `event->now`, `advisors_online` and `office_open` are filled
 * in by the server. Returns 0, 1 when the conversation does not exist, or
 * -1 when the engine or the store failed (logged). */
int srv_conversation_event(srv_t *srv, const char *conversation,
                           const eng_event_t *event);

/* Commits the open write transaction now and sends what waited for it.
 * The loop does this by itself after each pass; call it when a reply (for
 * example to an advisor) must only go out once its data is durable.
 * Returns 0, or -1 when the commit failed. */
int srv_flush(srv_t *srv);

#endif
