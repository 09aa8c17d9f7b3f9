/* Retention purge, erasure and export of one conversation. */
#include <stdlib.h>

#include "store/store_internal.h"

int store_purge(store_t *store, long long before, long long *count)
{
    static const char conversations[] =
        "DELETE FROM conversations WHERE updated_at < ?";
    static const char tokens[] = "DELETE FROM tokens WHERE expires_at <= ?";

    *count = 0;
    if (store_begin(store))
        return -1;
    sqlite3_stmt *stmt = store_statement(store, conversations);
    if (!stmt)
        goto fail;
    sqlite3_bind_int64(stmt, 1, before);
    if (store_step_done(store, stmt, "purging conversations"))
        goto fail;
    *count = sqlite3_changes(store->db);

    stmt = store_statement(store, tokens);
    if (!stmt)
        goto fail;
    sqlite3_bind_int64(stmt, 1, before);
    if (store_step_done(store, stmt, "purging tokens"))
        goto fail;
    return store_commit(store);

fail:
    store_rollback(store);
    return -1;
}

int store_erase(store_t *store, const char *id)
{
    static const char sql[] = "DELETE FROM conversations WHERE public_id = ?";
    if (store_begin(store))
        return -1;
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt) {
        store_rollback(store);
        return -1;
    }
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    if (store_step_done(store, stmt, "erasing a conversation")) {
        store_rollback(store);
        return -1;
    }
    int changes = sqlite3_changes(store->db);
    if (store_commit(store))
        return -1;
    return changes ? 0 : 1;
}

static int collect_message(const json_t *message, void *arg)
{
    return json_array_append(arg, (json_t *)message);
}

/* Appends the stored effects of a conversation to `effects`. */
static int export_effects(store_t *store, long long conversation,
                          json_t *effects)
{
    static const char sql[] = "SELECT body, created_at FROM effects "
                              "WHERE conversation_id = ? ORDER BY id";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, conversation);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *effect =
            json_loads((const char *)sqlite3_column_text(stmt, 0), 0, NULL);
        if (!effect)
            continue;
        json_t *item = json_pack("{s:o,s:I}", "effect", effect, "created_at",
                                 (json_int_t)sqlite3_column_int64(stmt, 1));
        json_array_append_new(effects, item);
    }
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Appends the unanswered questions recorded for a conversation. */
static int export_unanswered(store_t *store, long long conversation,
                             json_t *questions)
{
    static const char sql[] = "SELECT text, created_at FROM unanswered "
                              "WHERE conversation_id = ? ORDER BY id";
    sqlite3_stmt *stmt = store_statement(store, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, conversation);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        json_array_append_new(
            questions,
            json_pack("{s:s,s:I}", "text",
                      (const char *)sqlite3_column_text(stmt, 0), "created_at",
                      (json_int_t)sqlite3_column_int64(stmt, 1)));
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_export(store_t *store, const char *id, json_t **out)
{
    store_conversation_t conversation;
    *out = NULL;
    int rc = store_conversation_by_id(store, id, &conversation);
    if (rc)
        return rc;

    json_t *messages = json_array();
    json_t *effects = json_array();
    json_t *unanswered = json_array();
    json_t *export = json_pack(
        "{s:s,s:s,s:I,s:O?,s:o,s:o,s:o}", "conversation", conversation.id,
        "mode", conversation.mode, "created_at",
        (json_int_t)conversation.created_at, "state", conversation.state,
        "messages", messages, "effects", effects, "unanswered", unanswered);
    store_conversation_clear(&conversation);
    if (!export)
        return -1;

    if (store_messages_after(store, conversation.row, 0, collect_message,
                             messages) ||
        export_effects(store, conversation.row, effects) ||
        export_unanswered(store, conversation.row, unanswered)) {
        json_decref(export);
        return -1;
    }
    *out = export;
    return 0;
}
