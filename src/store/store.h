/* Conversation storage: conversations, their messages in seq order, the
 * engine state, visitor tokens, engine effects and unanswered questions.
 *
 * This header is the whole interface the server uses, so that another
 * backend (a shared PostgreSQL store for several nodes) can implement it.
 * The SQLite implementation runs every schema migration on open, keeps the
 * file in WAL mode with synchronous=FULL and groups writes in explicit
 * transactions: the caller opens one with store_begin(), writes, and
 * acknowledges nothing to a client before store_commit() returns 0 (or,
 * with a store_syncer_t, before the syncer reports that commit synced).
 *
 * Result convention: 0 on success, 1 for "not found" where stated, -1 on
 * a database error (logged with the SQLite message). */
#ifndef STEMDESK_STORE_H
#define STEMDESK_STORE_H

#include <stddef.h>

#include <jansson.h>

typedef struct store store_t;

/* Public conversation ids are 32 lowercase hex characters (128 bits). */
#define STORE_CONVERSATION_ID_SIZE 33
/* Visitor tokens are 43 base64url characters (256 random bits). */
#define STORE_TOKEN_SIZE 44

/* One conversation as loaded from the store. */
typedef struct {
    long long row;                       /* internal key */
    char id[STORE_CONVERSATION_ID_SIZE]; /* public id */
    char mode[16];                       /* bot, waiting, advisor, closed */
    long long last_seq;                  /* highest message seq, 0: none */
    long long created_at;                /* Unix seconds */
    json_t *state;                       /* engine state (owned), or NULL */
} store_conversation_t;

/* Opens (creating when missing) the database at `path` and applies every
 * pending migration. Returns NULL and fills `err` when that fails. The
 * caller closes the handle with store_close(). */
store_t *store_open(const char *path, char *err, size_t size);

/* Sets how a commit reaches the disk: with `full` (the default after
 * store_open) every commit waits for fsync of the write-ahead log, so it
 * survives a power cut; without, a commit survives a crash of the process
 * but the last commits may be lost when the machine loses power. */
int store_set_synchronous(store_t *store, int full);

/* Group commit with the fsync on a thread of its own (src/store/syncer.c).
 * Once started, a commit only writes the write-ahead log, and another
 * thread checkpoints the log. A commit becomes durable when the syncer has
 * synced the log after it. After each commit that must become durable, the
 * caller takes a generation number with store_syncer_request(). The syncer
 * syncs and then calls `wake` from its own thread. store_syncer_state()
 * returns the highest durable generation (`synced`) and the last one whose
 * sync failed (`failed`). store_syncer_sync_now() syncs on the caller's
 * thread and covers every generation requested before it. A caller that
 * never requests gets checkpoints off its thread and commits that survive
 * a crash of the process, as with store_set_synchronous(store, 0).
 * Returns NULL, leaving the store as it was, when the syncer cannot
 * start. */
typedef struct store_syncer store_syncer_t;
typedef void (*store_syncer_wake_fn)(void *arg);
store_syncer_t *store_syncer_start(store_t *store, store_syncer_wake_fn wake,
                                   void *wake_arg);
unsigned long long store_syncer_request(store_syncer_t *syncer);
void store_syncer_state(store_syncer_t *syncer, unsigned long long *synced,
                        unsigned long long *failed);
int store_syncer_sync_now(store_syncer_t *syncer);
/* Syncs what was requested, ends both threads and gives the store back
 * its own checkpoints and sync level. Accepts NULL. */
void store_syncer_stop(store_syncer_t *syncer);

/* Closes the database; an open transaction is rolled back. Accepts NULL. */
void store_close(store_t *store);

/* Returns 0 when the database answers a query. */
int store_ping(store_t *store);

/* Opens a write transaction. Nested calls are counted as one. */
int store_begin(store_t *store);
/* Commits the open transaction; only after 0 is its data durable. */
int store_commit(store_t *store);
/* Rolls back the open transaction; does nothing without one. */
void store_rollback(store_t *store);
/* Returns 1 while a transaction is open. */
int store_in_transaction(const store_t *store);

/* Creates a conversation and a fresh visitor token valid until
 * `token_expires_at`. Writes the token (NUL-terminated) into `token`,
 * which must hold STORE_TOKEN_SIZE bytes; only its hash is stored. Fills
 * `out`, whose state the caller releases with store_conversation_clear(). */
int store_conversation_create(store_t *store, long long now,
                              long long token_expires_at,
                              store_conversation_t *out, char *token);

/* Finds the conversation of a visitor token that has not expired at
 * `now`. Returns 0 and fills `out`, or 1 when the token is unknown or
 * expired. */
int store_conversation_by_token(store_t *store, const char *token,
                                long long now, store_conversation_t *out);

/* Finds a conversation by its public id; 1 when there is none. */
int store_conversation_by_id(store_t *store, const char *id,
                             store_conversation_t *out);

/* Releases the state held by `conversation`; accepts a zeroed struct. */
void store_conversation_clear(store_conversation_t *conversation);

/* Appends a message (an object with "from", "text" and optional
 * "quick_replies" and "cards", without "seq") and gives it the next seq.
 * With a `client_id` (visitor messages), a message already stored under
 * that id is not stored again: `*duplicate` is set to 1 and `*seq` to its
 * first seq. `duplicate` may be NULL when `client_id` is NULL. */
int store_message_append(store_t *store, long long conversation,
                         const char *client_id, const json_t *message,
                         long long now, long long *seq, int *duplicate);

/* Same as store_message_append() for a message already serialised as
 * compact JSON in `body` (without "seq"), sent by `from`. Lets a caller
 * that also sends the message serialise it once. */
int store_message_append_body(store_t *store, long long conversation,
                              const char *client_id, const char *from,
                              const char *body, long long now, long long *seq,
                              int *duplicate);

/* Calls `fn` for each message with seq > `after`, in seq order, with the
 * message object including "seq" (borrowed for the call). Stops and
 * returns -1 when `fn` returns nonzero. */
typedef int (*store_message_fn)(const json_t *message, void *arg);
int store_messages_after(store_t *store, long long conversation,
                         long long after, store_message_fn fn, void *arg);

/* Stores the engine state and mode of a conversation. */
int store_state_save(store_t *store, long long conversation,
                     const json_t *state, const char *mode, long long now);

/* Records one engine effect ({"type": ...}) as it was produced. */
int store_effect_add(store_t *store, long long conversation,
                     const json_t *effect, long long now);

/* Flags a conversation as waiting for an advisor, with the reason code. */
int store_conversation_escalate(store_t *store, long long conversation,
                                const char *reason, long long now);

/* Records a visitor question the bot could not answer, for editors. */
int store_unanswered_add(store_t *store, long long conversation,
                         const char *text, long long now);

/* Deletes conversations last active before `before` (Unix seconds) and
 * everything tied to them, and expired tokens. Sets `*count` to the number
 * of conversations deleted. Runs in its own transaction. */
int store_purge(store_t *store, long long before, long long *count);

/* Deletes one conversation and everything tied to it; 1 when not found. */
int store_erase(store_t *store, const char *id);

/* Builds the export of one conversation: id, times, mode, state, messages
 * and effects. Returns 0 with `*out` (owned by the caller), or 1 when not
 * found. */
int store_export(store_t *store, const char *id, json_t **out);

/* Counts stored conversations, for metrics. */
int store_count_conversations(store_t *store, long long *count);

#endif
