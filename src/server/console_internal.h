/* Private to the console files (console.c, console_api.c): the console's
 * state behind srv_console_data() and its per-socket data. */
#ifndef STEMDESK_SERVER_CONSOLE_INTERNAL_H
#define STEMDESK_SERVER_CONSOLE_INTERNAL_H

#include <stdatomic.h>

#include "handoff/assign.h"
#include "handoff/outbox.h"
#include "server/console.h"
#include "server/server_internal.h"
#include "store/accounts.h"

/* Name of the session cookie of the console. */
#define CONSOLE_COOKIE "stemdesk_session"
/* Failed logins remembered per address, for the rate limit. */
#define CONSOLE_LOGIN_SLOTS 256

/* Per-socket data of a /console socket. */
typedef struct console_socket {
    struct lws *wsi;
    srv_t *srv;
    store_account_t account;
    handoff_presence_t presence;
    char following[STORE_CONVERSATION_ID_SIZE]; /* open transcript */
    long long following_seq;                    /* last seq sent of it */
    srv_queue_t out;
    char *rx; /* fragments of the current message */
    size_t rx_len;
    int ready; /* authenticated and listed */
    /* The session cookie's token. It is checked again every few seconds,
     * so that a logout, a removed account or an expired session ends the
     * socket too. `ended` closes the socket once its last frame is sent. */
    char token[STORE_TOKEN_CHARS + 1];
    int ended;
    struct console_socket *next;
} console_socket_t;

typedef struct {
    long long window_start; /* Unix seconds */
    int failures;
    char address[64];
} console_login_slot_t;

/* An account whose consoles all closed, and when the last one did. */
typedef struct {
    long long account;
    long long lost_at; /* Unix seconds */
} console_lost_t;

typedef struct {
    srv_t *srv;
    console_socket_t *sockets;
    console_lost_t *lost; /* accounts with no open console, growable */
    size_t lost_count;
    size_t lost_size;
    handoff_outbox_t *outbox;
    lws_sorted_usec_list_t timer;
    int queue_dirty;           /* broadcast the queue after the next commit */
    int outbox_dirty;          /* wake the outbox after the next commit */
    int lists_dirty;           /* callbacks or failed requests changed */
    atomic_int outbox_changed; /* set by the outbox thread */
    int timer_running;
    unsigned ticks; /* of the one-second timer */
    console_login_slot_t logins[CONSOLE_LOGIN_SLOTS];
} console_t;

console_t *console_of(srv_t *srv);

/* Finds the account of the session cookie of a request. Returns 0 and
 * fills `account` (and `token`, when not NULL, with the cookie's token),
 * or 1 when there is no valid session. */
int console_authenticate(struct lws *wsi, srv_t *srv, store_account_t *account,
                         char token[STORE_TOKEN_CHARS + 1]);

/* Copies the value of the session cookie into `token`; -1 when absent. */
int console_cookie_token(struct lws *wsi, char *token, size_t size);

/* Returns 1 when the request has no Origin header or one whose host is
 * the Host header, so that other sites cannot drive the console. */
int console_same_origin(struct lws *wsi);

/* Builds the lists the console shows: queue (with advisors and the
 * server's time), open callback requests, failed partner requests. Each
 * returns a new object or NULL. */
json_t *console_queue_json(console_t *console);
json_t *console_callbacks_json(console_t *console);
json_t *console_outbox_json(console_t *console);

#endif
