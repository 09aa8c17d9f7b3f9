/* Knowledge-base benchmark. Prints faceted queries per second on one core,
 * on the real kb/ and on a generated kb of 10,000 entries, and the index
 * build time. The baseline is the same words as a plain FTS5 MATCH on an
 * FTS5 table of the same entries and tokenizer, without facets, reasons or
 * compound parts, measured in the same run; building that table is timed
 * too.
 *
 * usage: bench_knowledge [KB_DIR [LANG_DIR [ENTRIES]]], from the
 * repository root; the defaults are kb, lang and 10000. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "knowledge/kb_private.h"

#define RUN_SECONDS 1.0

typedef struct {
    const char *text;
    kb_filter_t filter;
} bench_query_t;

/* A mix of what the desk sends: orientation facets with and without
 * words, and words alone. */
static const bench_query_t queries[] = {
    {"gastles", {.type = "initiative"}},
    {"bedrijfsbezoeken voor kinderen",
     {.type = "initiative", .region = "west-vlaanderen"}},
    {"wedstrijd sponsoren", {.type = "initiative", .size = "groot"}},
    {"", {.type = "initiative", .region = "limburg", .level = "so3"}},
    {"", {.type = "partner", .sector = "voeding", .region = "limburg"}},
    {"stage voor leerlingen",
     {.level = "tso", .goal = "talent", .max_hours_per_month = 4}},
    {"robot programmeren", {.level = "so1", .size = "klein"}},
    {"ik wil jongeren warm maken voor techniek",
     {.goal = "enthousiasme", .region = "antwerpen", .sector = "metaal"}},
    {"", {.type = "initiative", .size = "klein", .max_hours_per_month = 2}},
    {"opendeurdag", {0}},
};
#define QUERY_COUNT (sizeof queries / sizeof *queries)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs the faceted queries for RUN_SECONDS; returns queries per second. */
static double run_faceted(kb_t *kb)
{
    kb_hit_t hits[10];
    size_t count, done = 0;
    double start = now(), elapsed;
    do {
        for (size_t i = 0; i < QUERY_COUNT; i++) {
            if (kb_search(kb, queries[i].text, &queries[i].filter, hits, 10,
                          &count) != 0) {
                fprintf(stderr, "bench: search failed\n");
                exit(1);
            }
        }
        done += QUERY_COUNT;
        elapsed = now() - start;
    } while (elapsed < RUN_SECONDS);
    return (double)done / elapsed;
}

/* Prints the mean time of each query, to show which kind dominates. */
static void report_each(kb_t *kb)
{
    kb_hit_t hits[10];
    size_t count;
    for (size_t i = 0; i < QUERY_COUNT; i++) {
        int rounds = 0;
        double start = now(), elapsed;
        do {
            kb_search(kb, queries[i].text, &queries[i].filter, hits, 10,
                      &count);
            rounds++;
            elapsed = now() - start;
        } while (elapsed < 0.1);
        printf("    %8.1f us  \"%s\"\n", elapsed / rounds * 1e6,
               queries[i].text);
    }
}

/* Builds the baseline MATCH text: each word quoted and OR-joined. */
static void baseline_expression(const char *text, char *out, size_t size)
{
    size_t used = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", text);
    out[0] = '\0';
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "))
        used += (size_t)snprintf(out + used, size - used, "%s\"%s\"",
                                 used ? " OR " : "", w);
}

/* The same words as plain FTS5 MATCH with BM25 order and LIMIT 10; queries
 * without words count as a full scan of the rowids. */
static double run_baseline(kb_t *kb, double *build_seconds)
{
    double build_start = now();
    sqlite3 *db = kb_database(kb);
    *build_seconds = now() - build_start;
    sqlite3_stmt *match = NULL, *all = NULL;
    if (!db ||
        sqlite3_prepare_v2(db,
                           "SELECT rowid FROM kb_fts WHERE kb_fts MATCH ?1 "
                           "ORDER BY rank LIMIT 10",
                           -1, &match, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT rowid FROM kb_fts LIMIT 10", -1, &all,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    char expressions[QUERY_COUNT][512];
    for (size_t i = 0; i < QUERY_COUNT; i++)
        baseline_expression(queries[i].text, expressions[i], 512);

    size_t done = 0;
    double start = now(), elapsed;
    do {
        for (size_t i = 0; i < QUERY_COUNT; i++) {
            sqlite3_stmt *stmt = expressions[i][0] ? match : all;
            if (expressions[i][0])
                sqlite3_bind_text(stmt, 1, expressions[i], -1, SQLITE_STATIC);
            while (sqlite3_step(stmt) == SQLITE_ROW)
                ;
            sqlite3_reset(stmt);
        }
        done += QUERY_COUNT;
        elapsed = now() - start;
    } while (elapsed < RUN_SECONDS);
    sqlite3_finalize(match);
    sqlite3_finalize(all);
    return (double)done / elapsed;
}

static kb_t *load(const char *kb_dir, const char *lang_dir, double *seconds)
{
    content_errors_t errs = {0};
    double start = now();
    kb_t *kb = kb_load(kb_dir, lang_dir, &errs);
    *seconds = now() - start;
    if (!kb)
        content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    return kb;
}

static void report(const char *name, kb_t *kb, double load_seconds)
{
    double faceted = run_faceted(kb);
    double fts5_seconds;
    double baseline = run_baseline(kb, &fts5_seconds);
    printf("%-10s %6zu entries  load %7.1f ms  index build %7.1f ms  "
           "FTS5 table build %7.1f ms\n",
           name, kb_entry_count(kb), load_seconds * 1000.0,
           kb->index_seconds * 1000.0, fts5_seconds * 1000.0);
    printf("%-10s faceted %9.0f queries/s  plain FTS5 %9.0f queries/s  "
           "ratio %.2f\n",
           name, faceted, baseline, faceted / baseline);
    report_each(kb);
}

/* Words for generated entries: the token stream of the real kb's texts,
 * so that generated text has the vocabulary and the word frequencies of
 * the real one. */
typedef struct {
    char **items;
    size_t count;
    size_t capacity;
} word_list_t;

static word_list_t corpus;

static int keep_word(const nlu_token_t *token, void *arg)
{
    (void)arg;
    if (corpus.count == corpus.capacity) {
        corpus.capacity = corpus.capacity ? corpus.capacity * 2 : 4096;
        corpus.items =
            realloc(corpus.items, corpus.capacity * sizeof *corpus.items);
        if (!corpus.items)
            return 1;
    }
    corpus.items[corpus.count++] = strdup(token->folded);
    return 0;
}

static void collect_corpus(const kb_t *kb)
{
    static const char *const keys[] = {"title", "summary", "body", "guidance",
                                       "benefits"};
    for (size_t i = 0; i < kb->count; i++)
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            const char *s =
                json_string_value(json_object_get(kb->items[i].json, keys[k]));
            if (s)
                nlu_tokenize(s, strlen(s), keep_word, NULL);
        }
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 16);
}

static const char *pick_word(void)
{
    return corpus.items[next_random() % corpus.count];
}

static void write_words(FILE *f, int count)
{
    for (int i = 0; i < count; i++)
        fprintf(f, "%s%s", i ? " " : "", pick_word());
}

static void write_facets(FILE *f, const kb_t *kb, kb_facet_kind_t kind,
                         int count)
{
    const kb_facet_t *facet = &kb->facets.facets[kind];
    fprintf(f, "[");
    for (int i = 0; i < count; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "",
                facet->values[next_random() % facet->count].value);
    fprintf(f, "]");
}

/* Writes `entries` initiatives into ten files under `dir`. The facet ids
 * come from the loaded real kb so that they validate. */
static int generate(const char *dir, const kb_t *facets_from, size_t entries)
{
    for (int file = 0; file < 10; file++) {
        char path[512];
        snprintf(path, sizeof path, "%s/generated-%d.json", dir, file);
        FILE *f = fopen(path, "w");
        if (!f)
            return -1;
        fprintf(f, "{\"entries\": [\n");
        size_t first = entries * (size_t)file / 10;
        size_t last = entries * (size_t)(file + 1) / 10;
        for (size_t i = first; i < last; i++) {
            fprintf(f,
                    "%s{\"id\": \"entry-%zu\", \"type\": \"initiative\", "
                    "\"title\": \"",
                    i == first ? "" : ",\n", i);
            write_words(f, 3);
            fprintf(f, "\", \"summary\": \"");
            write_words(f, 20);
            fprintf(f, "\", \"body\": \"");
            write_words(f, 90);
            fprintf(f, "\", \"keywords\": [\"%s\", \"%s\"], \"levels\": ",
                    pick_word(), pick_word());
            write_facets(f, facets_from, KB_FACET_LEVEL, 2);
            fprintf(f, ", \"regions\": ");
            write_facets(f, facets_from, KB_FACET_REGION, 1);
            fprintf(f, ", \"sectors\": ");
            write_facets(f, facets_from, KB_FACET_SECTOR, 2);
            fprintf(f, ", \"goals\": ");
            write_facets(f, facets_from, KB_FACET_GOAL, 2);
            unsigned hours = next_random() % 100;
            fprintf(f,
                    ", \"fit\": {\"small\": %s, \"large\": true}, "
                    "\"effort\": {\"hours_per_year\": ",
                    next_random() % 2 ? "true" : "false");
            if (hours < 10)
                fprintf(f, "null");
            else
                fprintf(f, "%u", hours);
            fprintf(f, ", \"basis\": \"schatting\", \"money\": \"geen\", "
                       "\"people\": \"een medewerker\", \"place\": \"op "
                       "school\"}, \"guidance\": \"begeleiding\", "
                       "\"benefits\": \"voordelen\", \"how_to_join\": "
                       "\"aanmelden\", \"organiser\": \"organisator\", "
                       "\"url\": null}");
        }
        fprintf(f, "\n]}\n");
        fclose(f);
    }
    return 0;
}

static void remove_generated(const char *dir)
{
    for (int file = 0; file < 10; file++) {
        char path[512];
        snprintf(path, sizeof path, "%s/generated-%d.json", dir, file);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    const char *kb_dir = argc > 1 ? argv[1] : "kb";
    const char *lang_dir = argc > 2 ? argv[2] : "lang";
    size_t entries = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 10000;
    log_set_level(LOG_LEVEL_WARN);

    double seconds;
    kb_t *real = load(kb_dir, lang_dir, &seconds);
    if (!real) {
        fprintf(stderr, "bench: %s does not load\n", kb_dir);
        return 1;
    }
    report("real kb", real, seconds);

    char dir[] = "/tmp/stemdesk-kb-bench-XXXXXX";
    collect_corpus(real);
    if (corpus.count == 0 || !mkdtemp(dir) ||
        generate(dir, real, entries) != 0) {
        fprintf(stderr, "bench: cannot write the generated kb\n");
        kb_free(real);
        return 1;
    }
    kb_free(real);
    kb_t *generated = load(dir, lang_dir, &seconds);
    remove_generated(dir);
    if (!generated)
        return 1;
    report("generated", generated, seconds);
    kb_free(generated);
    for (size_t i = 0; i < corpus.count; i++)
        free(corpus.items[i]);
    free(corpus.items);
    return 0;
}
