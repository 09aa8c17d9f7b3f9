/* Private to src/server: the server's state and the pieces its files
 * share (outgoing frame queues, the conversation cache, metrics). */
#ifndef STEMDESK_SERVER_INTERNAL_H
#define STEMDESK_SERVER_INTERNAL_H

#include <libwebsockets.h>

#include "server/server.h"

/* One outgoing WebSocket text frame, with LWS_PRE bytes of room before
 * the payload as lws_write() requires. */
typedef struct srv_frame {
    struct srv_frame *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE + len */
} srv_frame_t;

typedef struct {
    srv_frame_t *head;
    srv_frame_t *tail;
    size_t count;
} srv_queue_t;

typedef struct srv_visitor srv_visitor_t;
typedef struct srv_reload srv_reload_t;

/* A conversation in memory: loaded when a socket or the console uses it,
 * freed when nothing refers to it any more. */
typedef struct srv_conversation {
    long long row;
    char id[STORE_CONVERSATION_ID_SIZE];
    char mode[16];
    json_t *state; /* owned */
    long long last_seq;
    srv_visitor_t *visitors; /* open sockets on this conversation */
    int refs;
    int queue_changed; /* escalated since the last commit */
    struct srv_conversation *hash_next;
} srv_conversation_t;

/* Per-socket data of a /chat socket. */
struct srv_visitor {
    struct lws *wsi;
    srv_t *srv;
    srv_conversation_t *conversation; /* NULL until hello */
    srv_visitor_t *conversation_next;
    srv_queue_t out;
    char *rx; /* fragments of the current message */
    size_t rx_len;
    double bucket; /* rate limit: messages still allowed */
    double bucket_at;
    char address[64];
    int counted; /* counted in the per-address table */
    int close_code;
    const char *close_reason;
};

/* A frame that waits for the open transaction to commit. It goes to
 * `only`, or to every socket of the conversation except `except`. */
typedef struct srv_pending {
    struct srv_pending *next;
    srv_conversation_t *conversation; /* holds a reference */
    srv_visitor_t *only;
    srv_visitor_t *except;
    srv_frame_t *frame;
    double turn_started;           /* > 0: observe the turn latency at commit */
    int dropped;                   /* `only` closed before the commit */
    unsigned long long generation; /* the syncer's, once committed */
} srv_pending_t;

#define SRV_CONVERSATION_BUCKETS 4096
#define SRV_ADDRESS_BUCKETS 1024
#define SRV_LATENCY_BUCKETS 12

typedef struct srv_address {
    struct srv_address *next;
    int sockets;
    char address[64];
} srv_address_t;

typedef struct {
    long long sockets_open;
    long long conversations_started;
    long long turns;
    long long escalations;
    long long commits;
    long long reloads;
    long long reload_failures;
    long long errors[32];
    long long latency_buckets[SRV_LATENCY_BUCKETS];
    double latency_sum;
    long long latency_count;
} srv_metrics_t;

struct srv {
    const cfg_t *cfg;
    struct lws_context *context;
    store_t *store;
    eng_bundle_t *bundle;
    char *web_root; /* realpath of web_dir */
    int bench_echo;
    void *console;

    srv_conversation_t *conversations[SRV_CONVERSATION_BUCKETS];
    srv_address_t *addresses[SRV_ADDRESS_BUCKETS];

    srv_pending_t *pending_head; /* frames of the open transaction */
    srv_pending_t *pending_tail;
    double transaction_started; /* monotonic seconds; 0: none open */
    /* With db_synchronous "full", commits are synced by the store's
     * syncer thread; their frames wait here, in commit order, until it
     * reports them durable. Otherwise the list stays empty. */
    store_syncer_t *syncer;
    int sync_commits; /* 1: frames wait for the syncer ("full") */
    srv_pending_t *syncing_head;
    srv_pending_t *syncing_tail;
    unsigned long long sync_requested; /* last generation handed out */
    unsigned long long sync_seen;      /* last one known to be synced */
    lws_sorted_usec_list_t commit_timer;
    lws_sorted_usec_list_t purge_timer;

    srv_metrics_t metrics;
    srv_reload_t *reload; /* the content reload thread (reload.c) */
};

/* Monotonic time in seconds. */
double srv_now_monotonic(void);

/* Frames and queues. Allocates a frame holding a copy of `len` bytes. */
srv_frame_t *srv_frame_new(const char *data, size_t len);
/* Allocates a frame holding `value` serialised; does not keep `value`. */
srv_frame_t *srv_frame_json(const json_t *value);
/* Allocates the "message" frame of a stored message from its compact
 * JSON `body` (an object without "type" and "seq"): the same bytes as
 * serialising the object with "type" and "seq" appended. */
srv_frame_t *srv_frame_message(const char *body, long long seq);
void srv_queue_push(srv_queue_t *queue, srv_frame_t *frame);
srv_frame_t *srv_queue_pop(srv_queue_t *queue);
void srv_queue_clear(srv_queue_t *queue);

/* Conversation cache. srv_conversation_hold() takes over the state of
 * `loaded` (or drops it when the conversation is already cached) and
 * returns the cached conversation with one more reference. */
srv_conversation_t *srv_conversation_hold(srv_t *srv,
                                          store_conversation_t *loaded);
void srv_conversation_release(srv_t *srv, srv_conversation_t *conversation);

/* Allocates the visitor's `status` frame of a conversation: its mode and,
 * in "advisor" mode, the display name of the advisor. */
srv_frame_t *srv_status_frame(const srv_conversation_t *conversation);

/* Applies one engine event to a held conversation inside the open
 * transaction (opened here when needed), queueing its messages for every
 * socket of the conversation. Returns 0, or -1 when the engine or store
 * failed. */
int srv_conversation_step(srv_t *srv, srv_conversation_t *conversation,
                          eng_event_t *event, double turn_started);

/* Queues a frame (taken over) until the open transaction commits, and
 * makes sure a commit is scheduled. */
void srv_pending_add(srv_t *srv, srv_conversation_t *conversation,
                     srv_visitor_t *only, srv_visitor_t *except,
                     srv_frame_t *frame, double turn_started);

/* Queues `frame` (taken over) for `v` behind the frames for `v` that still
 * wait for a commit or its sync, and returns 1. Returns 0, leaving `frame`
 * to the caller, when no frame for `v` waits. */
int srv_pending_behind(srv_t *srv, srv_visitor_t *v, srv_frame_t *frame);
/* Opens the write transaction when none is open. */
int srv_transaction_begin(srv_t *srv);
/* Commits the open transaction when it is due (commit_interval_ms) and no
 * earlier commit is still being synced; its frames go out once durable.
 * Returns 1 while a commit waits for the syncer, else 0. */
int srv_commit_due(srv_t *srv);
/* Sends the frames whose commits the syncer has made durable, and commits
 * what gathered meanwhile. Runs on the loop when the syncer wakes it. */
void srv_sync_collect(srv_t *srv);

/* Sends a frame to one visitor socket now. */
void srv_visitor_send(srv_visitor_t *visitor, srv_frame_t *frame);
/* Closes a visitor socket with a close code once its queue is written. */
void srv_visitor_close(srv_visitor_t *visitor, int code, const char *reason);
/* Forgets a visitor that is closing, in pending frames too. */
void srv_visitor_detach(srv_t *srv, srv_visitor_t *visitor);

/* Counts an error by its code, for /metrics. */
void srv_metrics_error(srv_t *srv, const char *code);
void srv_metrics_latency(srv_t *srv, double seconds);
/* Writes the Prometheus text format into a new string (caller frees). */
char *srv_metrics_render(srv_t *srv);

/* Loads all content; on failure logs each error with file:line:column,
 * keeps the errors in `errs` (the caller frees them) and returns NULL.
 * Reads only `cfg`, so a reload thread may call it. */
eng_bundle_t *srv_load_content(const cfg_t *cfg, const char *when,
                               content_errors_t *errs);

/* Starts loading the content again on a thread, as SIGHUP does; `wsi`, a
 * console request or NULL, gets the result through srv_api_reload_done().
 * A request during a load gets a load of its own after it. Returns 0, or
 * -1 when the thread cannot start or too many requests wait. */
int srv_reload_start(srv_t *srv, struct lws *wsi);
/* On the loop, after a wake-up: when the load has finished, swaps in the
 * new content if every file was valid (else the running content stays)
 * and sends the result to the waiting requests. */
void srv_reload_collect(srv_t *srv);
/* Forgets a waiting request whose connection closed. */
void srv_reload_forget(srv_t *srv, struct lws *wsi);
/* Waits for a running load and frees the reload state. Call before the
 * lws context is destroyed: the thread wakes the loop through it. */
void srv_reload_stop(srv_t *srv);
/* Sends the response to a console reload request (console_api.c): `ok`,
 * or the errors. */
void srv_api_reload_done(srv_t *srv, struct lws *wsi, int ok,
                         const content_errors_t *errs);

/* Returns 1 within the configured office hours at Unix time `now`. */
int srv_office_open(const cfg_t *cfg, long long now);

/* Protocol callbacks. srv_route_callback() is the first protocol and
 * dispatches by path to the others. */
int srv_route_callback(struct lws *wsi, enum lws_callback_reasons reason,
                       void *user, void *in, size_t len);
size_t srv_route_session_size(void);
int srv_http_callback(struct lws *wsi, enum lws_callback_reasons reason,
                      void *user, void *in, size_t len);
int srv_visitor_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len);
int srv_echo_callback(struct lws *wsi, enum lws_callback_reasons reason,
                      void *user, void *in, size_t len);
extern const size_t srv_http_session_size;
extern const size_t srv_echo_session_size;

#endif
