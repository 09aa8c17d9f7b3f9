/* Reads for the editor pages: see editor.h. */
#include "store/editor.h"

#include "store/store_internal.h"

int store_unanswered_list(store_t *store, int limit, json_t **out)
{
    /* max(id) is the only min/max aggregate, so SQLite takes the bare
     * columns `text` and `created_at` from the group's latest row. */
    static const char sql[] =
        "SELECT text, count(*), created_at, max(id) FROM unanswered"
        " GROUP BY lower(trim(text)) ORDER BY max(id) DESC LIMIT ?";
    sqlite3_stmt *stmt = store_statement(store, sql);
    json_t *list;
    int rc;

    *out = NULL;
    if (!stmt)
        return -1;
    sqlite3_bind_int(stmt, 1, limit);
    list = json_array();
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(stmt, 0);
        json_array_append_new(
            list, json_pack("{s:s,s:I,s:I}", "text", text ? text : "", "count",
                            (json_int_t)sqlite3_column_int64(stmt, 1), "last",
                            (json_int_t)sqlite3_column_int64(stmt, 2)));
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        store_log_error(store, "listing unanswered questions");
        json_decref(list);
        return -1;
    }
    *out = list;
    return 0;
}
