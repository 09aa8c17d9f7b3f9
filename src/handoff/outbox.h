/* The partner outbox: requests to partner organisations are rows in
 * SQLite, delivered by a worker thread with its own connection, so that no
 * visitor turn waits on the network. The worker POSTs each request as JSON
 * to the partner's webhook, retries with exponential backoff, marks a
 * request failed after the last attempt (the console lists those), and
 * picks up pending rows left by an earlier run when it starts.
 *
 * Delivery is at least once: the header Idempotency-Key carries the
 * request id, so that a partner can drop the repeat that follows a crash
 * between its answer and our commit. */
#ifndef STEMDESK_HANDOFF_OUTBOX_H
#define STEMDESK_HANDOFF_OUTBOX_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

typedef struct handoff_outbox handoff_outbox_t;

typedef struct {
    const char *db_path;
    /* {"kb-id": {"url": "https://...", "token": "..."}}; "token", when
     * present, is sent as a bearer token. Copied at start. */
    const json_t *partners;
    int max_attempts;     /* then the request is marked failed */
    long long backoff_ms; /* wait after the first failed attempt */
    long timeout_ms;      /* per request; 0 means 10000 */
    /* Called on the worker thread after a request was delivered or marked
     * failed, e.g. to wake the event loop; may be NULL. */
    void (*on_change)(void *arg);
    void *on_change_arg;
} handoff_outbox_options_t;

/* Opens its own connection to the database and starts the worker thread.
 * Returns NULL with `err` filled when the database cannot be opened or the
 * thread cannot start. Stop it with handoff_outbox_stop(). */
handoff_outbox_t *handoff_outbox_start(const handoff_outbox_options_t *options,
                                       char *err, size_t size);

/* Tells the worker that a request was committed; safe from any thread. */
void handoff_outbox_wake(handoff_outbox_t *outbox);

/* Stops the worker (an attempt in progress is aborted and counted as
 * failed), waits for it and frees everything. Accepts NULL. */
void handoff_outbox_stop(handoff_outbox_t *outbox);

/* Builds the JSON body of a partner request from an engine effect
 * {"type":"partner","partner":ID,"reason":..,"slots":{..},..}. It holds
 * the conversation id, partner, reason, slots and consent; the visitor's
 * contact details and question only when the effect carries them with
 * "contact_consent": true. Returns a new string (free()) or NULL when the
 * effect has no partner id. */
char *handoff_partner_body(const char *conversation, const json_t *effect,
                           long long now);

/* Stores a partner request in the outbox for the worker to deliver, in the
 * caller's transaction. Call handoff_outbox_wake() after the commit.
 * Returns the row id or -1. */
long long handoff_outbox_enqueue(store_t *store, const char *conversation,
                                 const json_t *effect, long long now_ms);

#endif
