/* The FTS5 index: an in-memory SQLite database with one row per entry and
 * the columns title, keywords (aliases and keywords), summary and body (the
 * body and every other Dutch text of the entry). */
#include "knowledge/kb_private.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* A growable text buffer. */
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} buffer_t;

static int append(buffer_t *b, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (b->length + n + 2 > b->capacity) {
        size_t capacity = (b->length + n + 2) * 2;
        char *data = realloc(b->data, capacity);
        if (!data)
            return -1;
        b->data = data;
        b->capacity = capacity;
    }
    if (b->length)
        b->data[b->length++] = '\n';
    memcpy(b->data + b->length, s, n + 1);
    b->length += n;
    return 0;
}

/* Appends a string member, or each string of an array member. */
static int append_member(buffer_t *b, const json_t *entry, const char *key)
{
    json_t *value = json_object_get(entry, key);
    if (json_is_string(value))
        return append(b, json_string_value(value));
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        const char *s = json_string_value(item);
        if (!s && json_is_object(item))
            s = json_string_value(json_object_get(item, "text"));
        if (append(b, s) != 0)
            return -1;
    }
    return 0;
}

/* Fills the four column texts of an entry. */
static int columns(const json_t *entry, buffer_t col[4])
{
    static const char *const body_keys[] = {
        "body",      "guidance", "benefits", "how_to_join",
        "organiser", "dos",      "donts",    "items"};
    for (int i = 0; i < 4; i++)
        col[i].length = 0;
    for (int i = 0; i < 4; i++)
        if (append(&col[i], "") != 0)
            return -1; /* makes every column a valid empty string */
    int rc = append_member(&col[0], entry, "title");
    rc |= append_member(&col[1], entry, "aliases");
    rc |= append_member(&col[1], entry, "keywords");
    rc |= append_member(&col[2], entry, "summary");
    for (size_t k = 0; k < sizeof body_keys / sizeof *body_keys; k++)
        rc |= append_member(&col[3], entry, body_keys[k]);
    const json_t *effort = json_object_get(entry, "effort");
    rc |= append_member(&col[3], effort, "basis");
    return rc ? -1 : 0;
}

/* Feeds every text of every entry to the lexicon. */
static int learn(kb_t *kb, buffer_t col[4])
{
    for (size_t i = 0; i < kb->count; i++) {
        if (columns(kb->items[i].json, col) != 0)
            return -1;
        for (int c = 0; c < 4; c++)
            if (kb_text_learn(kb->text, col[c].data) != 0)
                return -1;
    }
    return kb_text_build_lexicon(kb->text);
}

static int exec(sqlite3 *db, const char *sql)
{
    char *message = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &message);
    if (rc != SQLITE_OK)
        LOG_ERROR("kb", "index statement failed: %s",
                  message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    return rc;
}

/* The terms of one entry while they are collected. */
typedef struct {
    kb_text_t *text;
    uint64_t *terms;
    size_t count;
    size_t capacity;
    int failed;
} term_set_t;

static void add_term(term_set_t *set, const char *term)
{
    if (set->count == set->capacity) {
        size_t capacity = set->capacity ? set->capacity * 2 : 128;
        uint64_t *terms = realloc(set->terms, capacity * sizeof *terms);
        if (!terms) {
            set->failed = 1;
            return;
        }
        set->terms = terms;
        set->capacity = capacity;
    }
    set->terms[set->count++] = kb_term_hash(term);
}

static int collect_terms(const nlu_token_t *token, void *arg)
{
    term_set_t *set = arg;
    kb_word_t scratch;
    const kb_word_t *word = kb_text_word(set->text, token->folded, 1, &scratch);
    add_term(set, word->stem);
    for (size_t i = 0; i < word->part_count; i++)
        add_term(set, word->parts[i]);
    return set->failed;
}

static int compare_terms(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Stores the sorted, distinct term hashes of an item, so that the words a
 * hit matched are found without another query. */
static int store_terms(kb_t *kb, kb_item_t *item, buffer_t col[4])
{
    term_set_t set = {.text = kb->text};
    for (int c = 0; c < 4 && !set.failed; c++)
        nlu_tokenize(col[c].data, col[c].length, collect_terms, &set);
    if (set.failed) {
        free(set.terms);
        return -1;
    }
    qsort(set.terms, set.count, sizeof *set.terms, compare_terms);
    size_t distinct = 0;
    for (size_t i = 0; i < set.count; i++)
        if (distinct == 0 || set.terms[distinct - 1] != set.terms[i])
            set.terms[distinct++] = set.terms[i];
    item->terms = set.terms;
    item->term_count = distinct;
    return 0;
}

/* Inserts every entry with its position as rowid (1-based). */
static int insert_rows(kb_t *kb, buffer_t col[4])
{
    sqlite3_stmt *insert = NULL;
    int rc = sqlite3_prepare_v2(kb->db,
                                "INSERT INTO kb_fts(rowid, title, keywords, "
                                "summary, body) VALUES (?1, ?2, ?3, ?4, ?5)",
                                -1, &insert, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < kb->count; i++) {
        if (columns(kb->items[i].json, col) != 0 ||
            store_terms(kb, &kb->items[i], col) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        sqlite3_bind_int64(insert, 1, (sqlite3_int64)i + 1);
        for (int c = 0; c < 4; c++)
            sqlite3_bind_text(insert, c + 2, col[c].data, (int)col[c].length,
                              SQLITE_STATIC);
        rc = sqlite3_step(insert);
        rc = rc == SQLITE_DONE ? sqlite3_reset(insert) : rc;
    }
    if (rc != SQLITE_OK)
        LOG_ERROR("kb", "indexing entries failed: %s", sqlite3_errmsg(kb->db));
    sqlite3_finalize(insert);
    return rc;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kb_index_build(kb_t *kb)
{
    double start = now_seconds();
    buffer_t col[4] = {{0}};
    int rc = SQLITE_NOMEM;

    kb->text = kb_text_new();
    if (!kb->text || learn(kb, col) != 0)
        goto done;
    rc = sqlite3_open_v2(":memory:", &kb->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        LOG_ERROR("kb", "opening the index database failed: %s",
                  sqlite3_errstr(rc));
        goto done;
    }
    rc = kb_text_register(kb->text, kb->db);
    if (rc != SQLITE_OK) {
        LOG_ERROR("kb", "registering the FTS5 tokenizer failed: %s",
                  sqlite3_errstr(rc));
        goto done;
    }
    rc = exec(kb->db, "CREATE VIRTUAL TABLE kb_fts USING fts5(title, "
                      "keywords, summary, body, tokenize = 'stemdesk_nl')");
    if (rc == SQLITE_OK)
        rc = exec(kb->db, "BEGIN");
    if (rc == SQLITE_OK)
        rc = insert_rows(kb, col);
    if (rc == SQLITE_OK)
        rc = exec(kb->db, "INSERT INTO kb_fts(kb_fts) VALUES ('optimize')");
    if (rc == SQLITE_OK)
        rc = exec(kb->db, "COMMIT");

    if (rc == SQLITE_OK)
        rc = exec(kb->db, "CREATE VIRTUAL TABLE kb_vocab USING "
                          "fts5vocab(kb_fts, 'row')");

    /* Column weights: a word in the title counts most, then the aliases and
     * keywords, the summary, and last the body. */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(kb->db,
                                "SELECT rowid, -bm25(kb_fts, 10.0, 6.0, 3.0, "
                                "1.0) FROM kb_fts WHERE kb_fts MATCH ?1",
                                -1, &kb->match, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(kb->db,
                                "SELECT doc FROM kb_vocab WHERE term = ?1", -1,
                                &kb->frequency, NULL);
    if (rc != SQLITE_OK)
        LOG_ERROR("kb", "preparing the search failed: %s",
                  sqlite3_errmsg(kb->db));

done:
    for (int c = 0; c < 4; c++)
        free(col[c].data);
    kb->index_seconds = now_seconds() - start;
    return rc == SQLITE_OK ? 0 : -1;
}
