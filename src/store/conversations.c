/* Conversations, messages, engine state, tokens, effects and unanswered
 * questions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/store_internal.h"

/* Hashes a visitor token; only the hash is stored, so a copy of the
 * database does not let anyone resume a visitor's conversation. */
static void token_hash(const char *token, unsigned char *hash)
{
    crypto_generichash(hash, crypto_generichash_BYTES,
                       (const unsigned char *)token, strlen(token), NULL, 0);
}

static void fill_conversation(sqlite3_stmt *stmt, store_conversation_t *out)
{
    memset(out, 0, sizeof *out);
    out->row = sqlite3_column_int64(stmt, 0);
    snprintf(out->id, sizeof out->id, "%s",
             (const char *)sqlite3_column_text(stmt, 1));
    snprintf(out->mode, sizeof out->mode, "%s",
             (const char *)sqlite3_column_text(stmt, 2));
    const char *state = (const char *)sqlite3_column_text(stmt, 3);
    if (state)
        out->state = json_loads(state, 0, NULL);
    out->last_seq = sqlite3_column_int64(stmt, 4);
    out->created_at = sqlite3_column_int64(stmt, 5);
}

int store_conversation_create(store_t *store, long long now,
                              long long token_expires_at,
                              store_conversation_t *out, char *token)
{
    static const char insert_conversation[] =
        "INSERT INTO conversations (public_id, created_at, updated_at) "
        "VALUES (?, ?, ?)";
    static const char insert_token[] =
        "INSERT INTO tokens (hash, conversation_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)";

    unsigned char id_bytes[16], token_bytes[32];
    unsigned char hash[crypto_generichash_BYTES];
    randombytes_buf(id_bytes, sizeof id_bytes);
    randombytes_buf(token_bytes, sizeof token_bytes);
    memset(out, 0, sizeof *out);
    sodium_bin2hex(out->id, sizeof out->id, id_bytes, sizeof id_bytes);
    sodium_bin2base64(token, STORE_TOKEN_SIZE, token_bytes, sizeof token_bytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    token_hash(token, hash);

    sqlite3_stmt *stmt = store_statement(store, insert_conversation);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, out->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, now);
    if (store_step_done(store, stmt, "creating a conversation"))
        return -1;
    out->row = sqlite3_last_insert_rowid(store->db);
    snprintf(out->mode, sizeof out->mode, "bot");
    out->created_at = now;

    stmt = store_statement(store, insert_token);
    if (!stmt)
        return -1;
    sqlite3_bind_blob(stmt, 1, hash, sizeof hash, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, out->row);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, token_expires_at);
    return store_step_done(store, stmt, "storing a visitor token");
}

int store_conversation_by_token(store_t *store, const char *token,
                                long long now, store_conversation_t *out)
{
    static const char sql[] =
        "SELECT c.id, c.public_id, c.mode, c.state, c.last_seq, c.created_at "
        "FROM tokens t JOIN conversations c ON c.id = t.conversation_id "
        "WHERE t.hash = ? AND t.expires_at > ?";
    unsigned char hash[crypto_generichash_BYTES];
    token_hash(token, hash);

    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_blob(stmt, 1, hash, sizeof hash, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        fill_conversation(stmt, out);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return 1;
    store_log_error(store, "looking up a visitor token");
    return -1;
}

int store_conversation_by_id(store_t *store, const char *id,
                             store_conversation_t *out)
{
    static const char sql[] =
        "SELECT id, public_id, mode, state, last_seq, created_at "
        "FROM conversations WHERE public_id = ?";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        fill_conversation(stmt, out);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return 1;
    store_log_error(store, "looking up a conversation");
    return -1;
}

void store_conversation_clear(store_conversation_t *conversation)
{
    if (!conversation)
        return;
    json_decref(conversation->state);
    conversation->state = NULL;
}

/* Looks up the seq of a visitor message by its client id; 1 when none. */
static int find_client_id(store_t *store, long long conversation,
                          const char *client_id, long long *seq)
{
    static const char sql[] = "SELECT seq FROM messages "
                              "WHERE conversation_id = ? AND client_id = ?";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_text(stmt, 2, client_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return 1;
    store_log_error(store, "looking up a client id");
    return -1;
}

int store_message_append_body(store_t *store, long long conversation,
                              const char *client_id, const char *from,
                              const char *body, long long now, long long *seq,
                              int *duplicate)
{
    static const char next_seq[] =
        "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? "
        "WHERE id = ? RETURNING last_seq";
    static const char insert[] =
        "INSERT INTO messages (conversation_id, seq, sender, body, "
        "client_id, created_at) VALUES (?, ?, ?, ?, ?, ?)";

    if (duplicate)
        *duplicate = 0;
    if (client_id) {
        int rc = find_client_id(store, conversation, client_id, seq);
        if (rc <= 0) {
            if (rc == 0 && duplicate)
                *duplicate = 1;
            return rc;
        }
    }

    sqlite3_stmt *stmt = store_statement(store, next_seq);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, now);
    sqlite3_bind_int64(stmt, 2, conversation);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW) {
        store_log_error(store, "numbering a message");
        return -1;
    }

    stmt = store_statement(store, insert);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, *seq);
    sqlite3_bind_text(stmt, 3, from ? from : "system", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, body, -1, SQLITE_STATIC);
    if (client_id)
        sqlite3_bind_text(stmt, 5, client_id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 5);
    sqlite3_bind_int64(stmt, 6, now);
    return store_step_done(store, stmt, "storing a message");
}

int store_message_append(store_t *store, long long conversation,
                         const char *client_id, const json_t *message,
                         long long now, long long *seq, int *duplicate)
{
    char *body = json_dumps(message, JSON_COMPACT);
    if (!body)
        return -1;
    const char *from = json_string_value(json_object_get(message, "from"));
    int rc = store_message_append_body(store, conversation, client_id, from,
                                       body, now, seq, duplicate);
    free(body);
    return rc;
}

int store_messages_after(store_t *store, long long conversation,
                         long long after, store_message_fn fn, void *arg)
{
    static const char sql[] =
        "SELECT seq, body FROM messages WHERE conversation_id = ? "
        "AND seq > ? ORDER BY seq";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_int64(stmt, 2, after);

    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *body = (const char *)sqlite3_column_text(stmt, 1);
        json_t *message = json_loads(body, 0, NULL);
        if (!json_is_object(message)) {
            json_decref(message);
            continue;
        }
        json_object_set_new(message, "seq",
                            json_integer(sqlite3_column_int64(stmt, 0)));
        int stop = fn(message, arg);
        json_decref(message);
        if (stop) {
            sqlite3_reset(stmt);
            return -1;
        }
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        store_log_error(store, "reading messages");
        return -1;
    }
    return 0;
}

int store_state_save(store_t *store, long long conversation,
                     const json_t *state, const char *mode, long long now)
{
    static const char sql[] = "UPDATE conversations SET state = ?, mode = ?, "
                              "updated_at = ? WHERE id = ?";
    char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt) {
        free(text);
        return -1;
    }
    if (text)
        sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 1);
    sqlite3_bind_text(stmt, 2, mode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, conversation);
    int rc = store_step_done(store, stmt, "storing the engine state");
    free(text);
    return rc;
}

int store_effect_add(store_t *store, long long conversation,
                     const json_t *effect, long long now)
{
    static const char sql[] = "INSERT INTO effects (conversation_id, type, "
                              "body, created_at) VALUES (?, ?, ?, ?)";
    const char *type = json_string_value(json_object_get(effect, "type"));
    char *body = json_dumps(effect, JSON_COMPACT);
    sqlite3_stmt *stmt = body ? store_statement(store, sql) : NULL;
    if (!stmt) {
        free(body);
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_text(stmt, 2, type ? type : "unknown", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now);
    int rc = store_step_done(store, stmt, "storing an effect");
    free(body);
    return rc;
}

int store_conversation_escalate(store_t *store, long long conversation,
                                const char *reason, long long now)
{
    static const char sql[] =
        "UPDATE conversations SET mode = 'waiting', waiting_reason = ?, "
        "waiting_since = ?, updated_at = ? WHERE id = ?";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, reason ? reason : "unknown", -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int64(stmt, 4, conversation);
    return store_step_done(store, stmt, "flagging a conversation waiting");
}

int store_unanswered_add(store_t *store, long long conversation,
                         const char *text, long long now)
{
    static const char sql[] = "INSERT INTO unanswered (conversation_id, "
                              "text, created_at) VALUES (?, ?, ?)";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, conversation);
    sqlite3_bind_text(stmt, 2, text ? text : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, now);
    return store_step_done(store, stmt, "storing an unanswered question");
}

int store_count_conversations(store_t *store, long long *count)
{
    static const char sql[] = "SELECT count(*) FROM conversations";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return rc == SQLITE_ROW ? 0 : -1;
}
