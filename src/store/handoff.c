/* Advisor queue, notes, callback requests and partner outbox: see
 * handoff.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "store/handoff.h"
#include "store/store_internal.h"

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        LOG_ERROR("store", "preparing a handoff statement failed: %s",
                  sqlite3_errmsg(db));
        return NULL;
    }
    return stmt;
}

/* Runs a statement that returns no rows. Returns the number of changed
 * rows or -1; finalizes `stmt` in every case. */
static int run(sqlite3 *db, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        LOG_ERROR("store", "a handoff statement failed: %s",
                  sqlite3_errmsg(db));
        return -1;
    }
    return sqlite3_changes(db);
}

static void bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text)
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, index);
}

static json_t *column_json(sqlite3_stmt *stmt, int index)
{
    const char *text = (const char *)sqlite3_column_text(stmt, index);
    json_t *value = text ? json_loads(text, 0, NULL) : NULL;

    return value ? value : json_object();
}

static json_t *column_string(sqlite3_stmt *stmt, int index)
{
    const char *text = (const char *)sqlite3_column_text(stmt, index);

    return text ? json_string(text) : json_null();
}

static json_t *column_time(sqlite3_stmt *stmt, int index)
{
    if (sqlite3_column_type(stmt, index) == SQLITE_NULL)
        return json_null();
    return json_integer(sqlite3_column_int64(stmt, index));
}

/* ---- queue ---- */

int store_queue_add(store_t *store, const char *conversation,
                    const char *reason, const char *detail, const json_t *slots,
                    long long now)
{
    sqlite3 *db = store->db;
    char *slots_text =
        json_is_object(slots) ? json_dumps(slots, JSON_COMPACT) : strdup("{}");
    sqlite3_stmt *stmt = prepare(
        db, "INSERT INTO handoff_queue (conversation_id, reason, detail, slots,"
            " state, queued_at) SELECT id, ?2, ?3, ?4, 'waiting', ?5"
            " FROM conversations WHERE public_id = ?1"
            " ON CONFLICT (conversation_id) DO UPDATE SET reason = ?2,"
            " detail = ?3, slots = ?4, state = 'waiting', advisor_id = NULL,"
            " queued_at = ?5, taken_at = NULL, answered_at = NULL,"
            " timeout_sent = 0, closed_at = NULL, outcome = NULL"
            " WHERE state = 'closed'");
    int changed;

    if (!stmt || !slots_text) {
        sqlite3_finalize(stmt);
        free(slots_text);
        return -1;
    }
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, reason ? reason : "unsure", -1, SQLITE_STATIC);
    bind_text_or_null(stmt, 3, detail);
    sqlite3_bind_text(stmt, 4, slots_text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, now);
    changed = run(db, stmt);
    free(slots_text);
    if (changed < 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

int store_queue_get(store_t *store, const char *conversation,
                    store_queue_row_t *out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "SELECT (SELECT public_id FROM conversations c WHERE c.id = "
            "conversation_id), state, advisor_id, queued_at, taken_at,"
            " answered_at, timeout_sent, (SELECT COALESCE(display_name, name)"
            " FROM accounts a WHERE a.id = advisor_id) FROM handoff_queue"
            " WHERE conversation_id = (SELECT id FROM conversations WHERE "
            "public_id = ?)");
    int rc;

    memset(out, 0, sizeof *out);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        snprintf(out->conversation, sizeof out->conversation, "%s",
                 (const char *)sqlite3_column_text(stmt, 0));
        snprintf(out->state, sizeof out->state, "%s",
                 (const char *)sqlite3_column_text(stmt, 1));
        out->advisor_id = sqlite3_column_int64(stmt, 2);
        out->queued_at = sqlite3_column_int64(stmt, 3);
        out->taken_at = sqlite3_column_int64(stmt, 4);
        out->answered_at = sqlite3_column_int64(stmt, 5);
        out->timeout_sent = sqlite3_column_int(stmt, 6);
        if (sqlite3_column_type(stmt, 7) != SQLITE_NULL)
            snprintf(out->advisor_name, sizeof out->advisor_name, "%s",
                     (const char *)sqlite3_column_text(stmt, 7));
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? 1 : -1;
}

int store_queue_take(store_t *store, const char *conversation,
                     long long advisor_id, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt =
        prepare(db, "UPDATE handoff_queue SET state = 'taken', advisor_id = ?2,"
                    " taken_at = ?3, answered_at = NULL"
                    " WHERE conversation_id = (SELECT id FROM conversations "
                    "WHERE public_id = ?1) AND state = 'waiting'");
    int changed;

    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, advisor_id);
    sqlite3_bind_int64(stmt, 3, now);
    changed = run(db, stmt);
    if (changed < 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

int store_queue_requeue(store_t *store, const char *conversation)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "UPDATE handoff_queue SET state = 'waiting', advisor_id = NULL,"
            " taken_at = NULL, answered_at = NULL"
            " WHERE conversation_id = (SELECT id FROM conversations WHERE "
            "public_id = ?) AND state = 'taken'");
    int changed;

    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    changed = run(db, stmt);
    if (changed < 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

int store_queue_answered(store_t *store, const char *conversation,
                         long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt =
        prepare(db, "UPDATE handoff_queue SET answered_at = ?2"
                    " WHERE conversation_id = (SELECT id FROM conversations "
                    "WHERE public_id = ?1) AND state = 'taken'"
                    " AND answered_at IS NULL");

    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now);
    return run(db, stmt) < 0 ? -1 : 0;
}

int store_queue_timeout_sent(store_t *store, const char *conversation)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "UPDATE handoff_queue SET timeout_sent = 1 WHERE conversation_id = "
            "(SELECT id FROM conversations WHERE public_id = ?)");

    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    return run(db, stmt) < 0 ? -1 : 0;
}

int store_queue_finish(store_t *store, const char *conversation,
                       const char *outcome, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt;
    int changed;

    if (outcome) {
        stmt = prepare(db,
                       "UPDATE handoff_queue SET state = 'closed',"
                       " outcome = ?2, closed_at = ?3"
                       " WHERE conversation_id = (SELECT id FROM conversations "
                       "WHERE public_id = ?1) AND state != 'closed'");
    } else {
        stmt = prepare(db, "DELETE FROM handoff_queue WHERE conversation_id = "
                           "(SELECT id FROM conversations WHERE public_id = ?1)"
                           " AND state != 'closed'");
    }
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    if (outcome) {
        sqlite3_bind_text(stmt, 2, outcome, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, now);
    }
    changed = run(db, stmt);
    if (changed < 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

int store_queue_list(store_t *store, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "SELECT c.public_id, q.state, q.reason, q.detail, q.slots,"
            " q.advisor_id, a.name, q.queued_at, q.taken_at, q.answered_at,"
            " q.timeout_sent, coalesce(a.display_name, a.name)"
            " FROM handoff_queue q"
            " JOIN conversations c ON c.id = q.conversation_id"
            " LEFT JOIN accounts a ON a.id = q.advisor_id"
            " WHERE q.state != 'closed' ORDER BY q.queued_at, c.public_id");
    json_t *list;
    int rc;

    *out = NULL;
    if (!stmt)
        return -1;
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *row = json_object();
        json_object_set_new(row, "conversation", column_string(stmt, 0));
        json_object_set_new(row, "state", column_string(stmt, 1));
        json_object_set_new(row, "reason", column_string(stmt, 2));
        json_object_set_new(row, "detail", column_string(stmt, 3));
        json_object_set_new(row, "slots", column_json(stmt, 4));
        json_object_set_new(row, "advisor", column_time(stmt, 5));
        json_object_set_new(row, "advisor_name", column_string(stmt, 6));
        json_object_set_new(row, "advisor_display_name",
                            column_string(stmt, 11));
        json_object_set_new(row, "queued_at", column_time(stmt, 7));
        json_object_set_new(row, "taken_at", column_time(stmt, 8));
        json_object_set_new(row, "answered_at", column_time(stmt, 9));
        json_object_set_new(row, "timeout_sent",
                            json_boolean(sqlite3_column_int(stmt, 10)));
        json_array_append_new(list, row);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}

int store_queue_rows(store_t *store, store_queue_row_t **out, size_t *count)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "SELECT c.public_id FROM handoff_queue q"
            " JOIN conversations c ON c.id = q.conversation_id"
            " WHERE q.state != 'closed' ORDER BY q.queued_at, c.public_id");
    store_queue_row_t *rows = NULL;
    size_t n = 0;
    size_t cap = 0;
    char **names = NULL;
    int rc;

    *out = NULL;
    *count = 0;
    if (!stmt)
        return -1;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            size_t next = cap ? cap * 2 : 8;
            char **grown = realloc(names, next * sizeof *names);
            if (!grown)
                break;
            names = grown;
            cap = next;
        }
        names[n++] = strdup((const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);

    if (rc == SQLITE_DONE && n > 0)
        rows = calloc(n, sizeof *rows);
    for (size_t i = 0; rows && i < n; i++) {
        if (!names[i] || store_queue_get(store, names[i], &rows[i]) != 0)
            rc = SQLITE_ERROR;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc != SQLITE_DONE || (n > 0 && !rows)) {
        free(rows);
        return -1;
    }
    *out = rows;
    *count = n;
    return 0;
}

/* ---- notes ---- */

int store_note_add(store_t *store, const char *conversation,
                   long long account_id, const char *text, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "INSERT INTO handoff_notes (conversation_id, account_id, text,"
            " created_at) SELECT id, ?2, ?3, ?4 FROM conversations"
            " WHERE public_id = ?1");

    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, account_id);
    sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, now);
    return run(db, stmt) == 1 ? 0 : -1;
}

int store_note_list(store_t *store, const char *conversation, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt =
        prepare(db, "SELECT n.created_at, a.name, n.text,"
                    " coalesce(a.display_name, a.name) FROM handoff_notes n"
                    " LEFT JOIN accounts a ON a.id = n.account_id"
                    " WHERE n.conversation_id = (SELECT id FROM conversations "
                    "WHERE public_id = ?) ORDER BY n.id");
    json_t *list;
    int rc;

    *out = NULL;
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *row = json_object();
        json_object_set_new(row, "at", column_time(stmt, 0));
        json_object_set_new(row, "advisor", column_string(stmt, 1));
        json_object_set_new(row, "text", column_string(stmt, 2));
        json_object_set_new(row, "advisor_display_name",
                            column_string(stmt, 3));
        json_array_append_new(list, row);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}

/* ---- callback requests ---- */

/* Runs a callback statement with ?1 the conversation, ?2 to ?4 the name,
 * e-mail and phone of `effect`, ?5 the slots and ?6 `now` (when used),
 * that returns the id of the row it wrote. Returns that id, 0 when it
 * wrote no row, or -1 when it failed. */
static long long write_callback(sqlite3 *db, const char *sql,
                                const char *conversation, const json_t *effect,
                                const char *slots_text, long long now)
{
    sqlite3_stmt *stmt = prepare(db, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, conversation, -1, SQLITE_STATIC);
    bind_text_or_null(stmt, 2,
                      json_string_value(json_object_get(effect, "name")));
    bind_text_or_null(stmt, 3,
                      json_string_value(json_object_get(effect, "email")));
    bind_text_or_null(stmt, 4,
                      json_string_value(json_object_get(effect, "phone")));
    sqlite3_bind_text(stmt, 5, slots_text, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(stmt) >= 6)
        sqlite3_bind_int64(stmt, 6, now);
    long long id = 0;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(stmt, 0);
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        LOG_ERROR("store", "conversation %s: storing a callback failed: %s",
                  conversation, sqlite3_errmsg(db));
        id = -1;
    }
    sqlite3_finalize(stmt);
    return id;
}

long long store_callback_add(store_t *store, const char *conversation,
                             const json_t *effect, long long now)
{
    sqlite3 *db = store->db;
    const json_t *slots = json_object_get(effect, "slots");
    char *slots_text;

    if (!json_is_true(json_object_get(effect, "consent"))) {
        LOG_WARN("store",
                 "conversation %s: callback request without consent dropped",
                 conversation);
        return -1;
    }
    slots_text =
        json_is_object(slots) ? json_dumps(slots, JSON_COMPACT) : strdup("{}");
    if (!slots_text)
        return -1;
    /* A conversation has one open request: a detail sent later (a phone
     * number after the e-mail address) completes it. */
    long long id = write_callback(
        db,
        "UPDATE callbacks SET name = COALESCE(?2, name),"
        " email = COALESCE(?3, email), phone = COALESCE(?4, phone), slots = ?5"
        " WHERE state = 'open' AND conversation_id ="
        " (SELECT id FROM conversations WHERE public_id = ?1) RETURNING id",
        conversation, effect, slots_text, now);
    if (id == 0)
        id = write_callback(db,
                            "INSERT INTO callbacks (conversation_id, name,"
                            " email, phone, slots, created_at)"
                            " SELECT id, ?2, ?3, ?4, ?5, ?6 FROM conversations"
                            " WHERE public_id = ?1 RETURNING id",
                            conversation, effect, slots_text, now);
    free(slots_text);
    return id > 0 ? id : -1;
}

int store_callback_list(store_t *store, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "SELECT b.id, c.public_id, b.name, b.email, b.phone, b.slots,"
            " b.created_at FROM callbacks b"
            " JOIN conversations c ON c.id = b.conversation_id"
            " WHERE b.state = 'open' ORDER BY b.created_at, b.id");
    json_t *list;
    int rc;

    *out = NULL;
    if (!stmt)
        return -1;
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *row = json_object();
        json_object_set_new(row, "id", column_time(stmt, 0));
        json_object_set_new(row, "conversation", column_string(stmt, 1));
        json_object_set_new(row, "name", column_string(stmt, 2));
        json_object_set_new(row, "email", column_string(stmt, 3));
        json_object_set_new(row, "phone", column_string(stmt, 4));
        json_object_set_new(row, "slots", column_json(stmt, 5));
        json_object_set_new(row, "created", column_time(stmt, 6));
        json_array_append_new(list, row);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}

int store_callback_done(store_t *store, long long id, long long account_id,
                        long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "UPDATE callbacks SET state = 'done', done_at = ?2, done_by = ?3"
            " WHERE id = ?1 AND state = 'open'");
    int changed;

    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, now);
    sqlite3_bind_int64(stmt, 3, account_id);
    changed = run(db, stmt);
    if (changed < 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

/* ---- partner outbox ---- */

long long store_outbox_add(store_t *store, const char *conversation,
                           const char *partner, const char *body,
                           long long now_ms, char request_id[33])
{
    sqlite3 *db = store->db;
    unsigned char random[16];
    char id[33];
    sqlite3_stmt *stmt;

    if (sodium_init() < 0)
        return -1;
    randombytes_buf(random, sizeof random);
    sodium_bin2hex(id, sizeof id, random, sizeof random);
    stmt =
        prepare(db, "INSERT INTO partner_outbox (request_id, conversation_id,"
                    " partner, body, next_at_ms, created_at)"
                    " SELECT ?1, id, ?3, ?4, ?5, ?6 FROM conversations"
                    " WHERE public_id = ?2");
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, conversation, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, partner, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, now_ms);
    sqlite3_bind_int64(stmt, 6, now_ms / 1000);
    if (run(db, stmt) != 1)
        return -1;
    if (request_id)
        memcpy(request_id, id, sizeof id);
    return sqlite3_last_insert_rowid(db);
}

int store_outbox_next(store_t *store, long long now_ms, store_outbox_row_t *out,
                      long long *next_ms)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "SELECT o.id, o.request_id, c.public_id, o.partner, o.body,"
            " o.attempts, o.next_at_ms FROM partner_outbox o"
            " JOIN conversations c ON c.id = o.conversation_id"
            " WHERE o.state = 'pending' ORDER BY o.next_at_ms, o.id LIMIT 1");
    int rc;

    memset(out, 0, sizeof *out);
    *next_ms = 0;
    if (!stmt)
        return -1;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *next_ms = sqlite3_column_int64(stmt, 6);
        if (*next_ms <= now_ms) {
            out->id = sqlite3_column_int64(stmt, 0);
            snprintf(out->request_id, sizeof out->request_id, "%s",
                     (const char *)sqlite3_column_text(stmt, 1));
            snprintf(out->conversation, sizeof out->conversation, "%s",
                     (const char *)sqlite3_column_text(stmt, 2));
            snprintf(out->partner, sizeof out->partner, "%s",
                     (const char *)sqlite3_column_text(stmt, 3));
            out->body = strdup((const char *)sqlite3_column_text(stmt, 4));
            out->attempts = sqlite3_column_int(stmt, 5);
            out->next_at_ms = *next_ms;
        }
    }
    sqlite3_finalize(stmt);
    if (rc == SQLITE_DONE)
        return 1;
    if (rc != SQLITE_ROW)
        return -1;
    if (out->id == 0)
        return 1;
    return out->body ? 0 : -1;
}

void store_outbox_row_clear(store_outbox_row_t *row)
{
    if (!row)
        return;
    free(row->body);
    memset(row, 0, sizeof *row);
}

int store_outbox_delivered(store_t *store, long long id, long long now)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt =
        prepare(db, "UPDATE partner_outbox SET state = 'delivered', attempts ="
                    " attempts + 1, delivered_at = ?2, last_error = NULL"
                    " WHERE id = ?1");

    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, now);
    return run(db, stmt) == 1 ? 0 : -1;
}

int store_outbox_attempt_failed(store_t *store, long long id, int attempts,
                                long long next_at_ms, int failed,
                                const char *error)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt =
        prepare(db, "UPDATE partner_outbox SET attempts = ?2, next_at_ms = ?3,"
                    " state = CASE WHEN ?4 THEN 'failed' ELSE 'pending' END,"
                    " last_error = ?5 WHERE id = ?1");

    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, attempts);
    sqlite3_bind_int64(stmt, 3, next_at_ms);
    sqlite3_bind_int(stmt, 4, failed);
    bind_text_or_null(stmt, 5, error);
    return run(db, stmt) == 1 ? 0 : -1;
}

int store_outbox_retry(store_t *store, long long id, long long now_ms)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt =
        prepare(db, "UPDATE partner_outbox SET state = 'pending', attempts = 0,"
                    " next_at_ms = ?2 WHERE id = ?1 AND state = 'failed'");
    int changed;

    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, now_ms);
    changed = run(db, stmt);
    if (changed < 0)
        return -1;
    return changed == 1 ? 0 : 1;
}

int store_outbox_list(store_t *store, const char *state, json_t **out)
{
    sqlite3 *db = store->db;
    sqlite3_stmt *stmt = prepare(
        db, "SELECT o.id, o.request_id, c.public_id, o.partner, o.attempts,"
            " o.last_error, o.created_at, o.delivered_at FROM partner_outbox o"
            " JOIN conversations c ON c.id = o.conversation_id"
            " WHERE o.state = ? ORDER BY o.id DESC LIMIT 200");
    json_t *list;
    int rc;

    *out = NULL;
    if (!stmt)
        return -1;
    sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *row = json_object();
        json_object_set_new(row, "id", column_time(stmt, 0));
        json_object_set_new(row, "request_id", column_string(stmt, 1));
        json_object_set_new(row, "conversation", column_string(stmt, 2));
        json_object_set_new(row, "partner", column_string(stmt, 3));
        json_object_set_new(row, "attempts", column_time(stmt, 4));
        json_object_set_new(row, "last_error", column_string(stmt, 5));
        json_object_set_new(row, "created", column_time(stmt, 6));
        json_object_set_new(row, "delivered", column_time(stmt, 7));
        json_array_append_new(list, row);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}
