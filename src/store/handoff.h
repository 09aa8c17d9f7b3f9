/* SQL of the advisor queue, internal notes, callback requests and the
 * partner outbox. The rules of who may take what live in handoff/; these
 * functions only read and write rows. Conversations are named by their
 * public id; every row here is deleted with its conversation (erasure and
 * retention purge). */
#ifndef STEMDESK_STORE_HANDOFF_H
#define STEMDESK_STORE_HANDOFF_H

#include <stddef.h>

#include <jansson.h>
#include "store/store.h"

/* One row of the advisor queue. Times are Unix seconds, 0 for none. */
typedef struct {
    char conversation[64];
    char state[8]; /* "waiting", "taken" or "closed" */
    long long advisor_id;
    long long queued_at;
    long long taken_at;
    long long answered_at;
    int timeout_sent;
    char advisor_name[256]; /* display name, else login name, of the holder;
                               empty when nobody holds it */
} store_queue_row_t;

/* Puts a conversation in the queue as waiting, or back to waiting with the
 * new reason when it was closed or handed back earlier. `slots` may be
 * NULL. Returns 0, 1 when it is already waiting or taken, or -1. */
int store_queue_add(store_t *store, const char *conversation,
                    const char *reason, const char *detail, const json_t *slots,
                    long long now);

/* Reads one queue row. Returns 0, 1 when the conversation is not queued,
 * or -1. */
int store_queue_get(store_t *store, const char *conversation,
                    store_queue_row_t *out);

/* Marks a waiting conversation as taken by `advisor_id`, only while it is
 * still waiting. Returns 0 when this call took it, 1 when it was not
 * waiting (already taken or closed), or -1. */
int store_queue_take(store_t *store, const char *conversation,
                     long long advisor_id, long long now);

/* Puts a taken conversation back to waiting (advisor offline or silent).
 * Returns 0, 1 when it was not taken, or -1. */
int store_queue_requeue(store_t *store, const char *conversation);

/* Records the first reply of the advisor that holds the conversation. */
int store_queue_answered(store_t *store, const char *conversation,
                         long long now);

/* Records that the visitor was told that nobody answered in time. */
int store_queue_timeout_sent(store_t *store, const char *conversation);

/* Ends the queue entry: "closed" with an outcome, or, with outcome NULL,
 * removed because the advisor handed back to the bot. Returns 0, 1 when it
 * is not in the queue, or -1. */
int store_queue_finish(store_t *store, const char *conversation,
                       const char *outcome, long long now);

/* Fills `out` with a new array of the rows that are waiting or taken, the
 * oldest first: {conversation, state, reason, detail, slots, advisor,
 * advisor_name, advisor_display_name, queued_at, taken_at, answered_at,
 * timeout_sent}. advisor_name is the login name and advisor_display_name
 * the display name, or the login name when none is set. */
int store_queue_list(store_t *store, json_t **out);

/* Fills `out` (caller frees) with the rows that are waiting or taken as
 * plain structs; `*count` receives their number. Returns 0 or -1. */
int store_queue_rows(store_t *store, store_queue_row_t **out, size_t *count);

/* Stores an internal note that the visitor never sees. Returns 0 or -1. */
int store_note_add(store_t *store, const char *conversation,
                   long long account_id, const char *text, long long now);

/* Fills `out` with a new array of {at, advisor, advisor_display_name,
 * text} of a conversation, advisor being the login name. */
int store_note_list(store_t *store, const char *conversation, json_t **out);

/* Stores a callback request from an engine effect {name, email, phone,
 * consent, slots}. Rejects one without consent:true. When the conversation
 * has an open request, the fields given (not null) replace its own there.
 * Returns the id of the request, or -1. */
long long store_callback_add(store_t *store, const char *conversation,
                             const json_t *effect, long long now);

/* Fills `out` with a new array of the open callback requests, oldest
 * first: {id, conversation, name, email, phone, slots, created}. */
int store_callback_list(store_t *store, json_t **out);

/* Marks a callback request as handled. Returns 0, 1 when not open, or -1. */
int store_callback_done(store_t *store, long long id, long long account_id,
                        long long now);

/* One partner request in the outbox. */
typedef struct {
    long long id;
    char request_id[33];
    char conversation[64];
    char partner[128];
    char *body; /* owned; see store_outbox_row_clear() */
    int attempts;
    long long next_at_ms;
} store_outbox_row_t;

/* Adds a pending partner request due now; `body` is the JSON to POST.
 * Writes its random request id (32 hex characters) to `request_id` when not
 * NULL. Returns the row id or -1. */
long long store_outbox_add(store_t *store, const char *conversation,
                           const char *partner, const char *body,
                           long long now_ms, char request_id[33]);

/* Reads the pending request that is due first. Returns 0 and fills `out`
 * when one is due at `now_ms`, 1 when none is, or -1. `*next_ms` receives
 * the due time of the earliest pending request, or 0 when there is none. */
int store_outbox_next(store_t *store, long long now_ms, store_outbox_row_t *out,
                      long long *next_ms);
void store_outbox_row_clear(store_outbox_row_t *row);

int store_outbox_delivered(store_t *store, long long id, long long now);
/* Records a failed attempt: the request stays pending until `next_at_ms`,
 * or becomes failed when `failed` is 1. `error` names the cause. */
int store_outbox_attempt_failed(store_t *store, long long id, int attempts,
                                long long next_at_ms, int failed,
                                const char *error);
/* Puts a failed request back to pending, due now, with its attempts
 * counted from zero. Returns 0, 1 when it was not failed, or -1. */
int store_outbox_retry(store_t *store, long long id, long long now_ms);

/* Fills `out` with a new array of the outbox rows in `state` ("pending",
 * "delivered" or "failed"), newest first: {id, request_id, conversation,
 * partner, attempts, last_error, created, delivered}. */
int store_outbox_list(store_t *store, const char *state, json_t **out);

#endif
