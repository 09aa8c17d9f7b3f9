/* An SQLite FTS5 table with the same columns and tokenizer as the inverted
 * index. Searches do not use it: it is built on request, for the benchmark
 * baseline and for the test that checks the BM25 scores against FTS5's. */
#include "knowledge/kb_private.h"

#include "common/log.h"

static int exec(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (rc != SQLITE_OK)
        LOG_ERROR("kb", "FTS5 statement failed: %s",
                  message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    return rc;
}

/* Binds each column and inserts the row after the last one. */
static int insert_column(int column, const char *text, size_t length, void *arg)
{
    sqlite3_stmt *insert = arg;
    sqlite3_bind_text(insert, column + 2, text, (int)length, SQLITE_TRANSIENT);
    if (column < 3)
        return 0;
    int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    return rc == SQLITE_DONE ? 0 : rc;
}

/* Creates the table in kb->db and fills it in one transaction. */
static int fill(kb_t *kb)
{
    sqlite3_stmt *insert = NULL;
    int rc = exec(kb->db, "CREATE VIRTUAL TABLE kb_fts USING fts5(title, "
                          "keywords, summary, body, tokenize = 'stemdesk_nl')");
    if (rc == SQLITE_OK)
        rc = exec(kb->db, "BEGIN");
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(kb->db,
                                "INSERT INTO kb_fts(rowid, title, keywords, "
                                "summary, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                                -1, &insert, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < kb->count; i++) {
        sqlite3_bind_int64(insert, 1, (sqlite3_int64)i + 1);
        rc = kb_columns_each(kb->items[i].json, insert_column, insert);
        if (rc == -1)
            rc = SQLITE_NOMEM;
    }
    sqlite3_finalize(insert);
    if (rc != SQLITE_OK)
        LOG_ERROR("kb", "filling the FTS5 table failed: %s",
                  sqlite3_errmsg(kb->db));
    if (rc == SQLITE_OK)
        rc = exec(kb->db, "INSERT INTO kb_fts(kb_fts) VALUES ('optimize')");
    if (rc == SQLITE_OK)
        rc = exec(kb->db, "COMMIT");
    return rc;
}

sqlite3 *kb_database(kb_t *kb)
{
    if (kb->db)
        return kb->db;
    int rc = sqlite3_open_v2(":memory:", &kb->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
        rc = kb_text_register(kb->text, kb->db);
        if (rc != SQLITE_OK)
            LOG_ERROR("kb", "registering the FTS5 tokenizer failed: %s",
                      sqlite3_errstr(rc));
    } else {
        LOG_ERROR("kb", "opening the FTS5 database failed: %s",
                  sqlite3_errstr(rc));
    }
    if (rc == SQLITE_OK)
        rc = fill(kb);
    if (rc != SQLITE_OK) {
        sqlite3_close(kb->db);
        kb->db = NULL;
    }
    return kb->db;
}
