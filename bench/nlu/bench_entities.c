/* Measures, on one core, how many messages per second entity extraction
 * (nlu_extract_entities) handles over the first column of a TSV file, next
 * to a baseline in the same run: tokenising and folding alone
 * (nlu_tokenize), the floor that any extraction pays. It also times typo
 * correction (nlu_lexicon_correct) of every token of the file against a
 * lexicon of the language data. Prints one JSON object.
 *
 * Times are CPU seconds of the process, as bench_nlu measures them.
 *
 * usage: bench_entities LANG_DIR TEST_TSV [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nlu/entities.h"
#include "nlu/lexicon.h"
#include "nlu/text.h"

#define LINE_MAX_BYTES 4096

typedef struct {
    char **lines;
    size_t count;
} corpus_t;

/* Returns the CPU time of the process, so that other programs sharing the
 * core do not count against it. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Frees every line and the list; accepts an empty corpus. */
static void corpus_free(corpus_t *corpus)
{
    for (size_t i = 0; i < corpus->count; i++)
        free(corpus->lines[i]);
    free(corpus->lines);
}

/* Reads the text before the first tab of every non-empty line that does
 * not start with '#'. Allocates the lines; free them with corpus_free().
 * Returns 0, or -1 with a message on stderr. */
static int corpus_read(const char *path, corpus_t *corpus)
{
    char line[LINE_MAX_BYTES];
    size_t cap = 0;
    FILE *file = fopen(path, "r");
    memset(corpus, 0, sizeof *corpus);
    if (!file) {
        fprintf(stderr, "bench_entities: cannot open %s: check the path\n",
                path);
        return -1;
    }
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\t\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (corpus->count == cap) {
            cap = cap ? cap * 2 : 256;
            char **grown = realloc(corpus->lines, cap * sizeof *grown);
            if (!grown)
                goto oom;
            corpus->lines = grown;
        }
        corpus->lines[corpus->count] = strdup(line);
        if (!corpus->lines[corpus->count])
            goto oom;
        corpus->count++;
    }
    fclose(file);
    if (corpus->count == 0) {
        fprintf(stderr, "bench_entities: no lines in %s\n", path);
        return -1;
    }
    return 0;

oom:
    fclose(file);
    fprintf(stderr, "bench_entities: out of memory reading %s\n", path);
    return -1;
}

typedef enum {
    MEASURE_TOKENIZE, /* nlu_tokenize, which folds every token */
    MEASURE_ENTITIES  /* nlu_extract_entities */
} measure_t;

static int count_token(const nlu_token_t *token, void *arg)
{
    (void)token;
    ++*(size_t *)arg;
    return 0;
}

/* Runs one measure over every line, again and again until `budget`
 * seconds are spent, and returns messages per second. `sink` keeps the
 * results alive so that the compiler cannot drop the work. */
static double rate(const nlu_lang_t *lang, const corpus_t *corpus,
                   measure_t measure, double budget, size_t *sink)
{
    size_t done = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < budget) {
        for (size_t i = 0; i < corpus->count; i++) {
            const char *text = corpus->lines[i];
            nlu_entity_t entities[NLU_MAX_ENTITIES];
            if (measure == MEASURE_TOKENIZE)
                nlu_tokenize(text, strlen(text), count_token, sink);
            else
                *sink += nlu_extract_entities(lang, text, entities,
                                              NLU_MAX_ENTITIES);
        }
        done += corpus->count;
        elapsed = now_seconds() - start;
    }
    return (double)done / elapsed;
}

typedef struct {
    const nlu_lexicon_t *lexicon;
    size_t lookups;
    size_t corrected;
} correct_ctx_t;

static int correct_token(const nlu_token_t *token, void *arg)
{
    correct_ctx_t *ctx = arg;
    char out[64];
    if (token->is_number)
        return 0;
    ctx->corrected += (size_t)nlu_lexicon_correct(ctx->lexicon, token->folded,
                                                  out, sizeof out);
    ctx->lookups++;
    return 0;
}

/* Corrects every word token of every line until `budget` seconds are
 * spent and returns lookups per second. */
static double correct_rate(const nlu_lexicon_t *lexicon, const corpus_t *corpus,
                           double budget, size_t *sink)
{
    correct_ctx_t ctx = {.lexicon = lexicon};
    double start = now_seconds(), elapsed = 0;
    while (elapsed < budget) {
        for (size_t i = 0; i < corpus->count; i++) {
            const char *text = corpus->lines[i];
            nlu_tokenize(text, strlen(text), correct_token, &ctx);
        }
        elapsed = now_seconds() - start;
    }
    *sink += ctx.corrected;
    return (double)ctx.lookups / elapsed;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: bench_entities LANG_DIR TEST_TSV [SECONDS]\n");
        return 2;
    }
    double budget = argc == 4 ? strtod(argv[3], NULL) : 3.0;
    content_errors_t errs = {0};
    corpus_t corpus;
    if (corpus_read(argv[2], &corpus) != 0)
        return 1;

    double start = now_seconds();
    nlu_lang_t *lang = nlu_lang_load(argv[1], &errs);
    double load_seconds = now_seconds() - start;
    nlu_lexicon_t *lexicon = nlu_lexicon_new();
    if (!lang || !lexicon || nlu_lang_fill_lexicon(lang, lexicon) != 0) {
        content_errors_print(&errs, stderr);
        fprintf(stderr, "bench_entities: cannot load %s\n", argv[1]);
        content_errors_free(&errs);
        nlu_lexicon_free(lexicon);
        nlu_lang_free(lang);
        corpus_free(&corpus);
        return 1;
    }

    size_t sink = 0;
    double tokenize = rate(lang, &corpus, MEASURE_TOKENIZE, budget, &sink);
    double entities = rate(lang, &corpus, MEASURE_ENTITIES, budget, &sink);
    double corrections = correct_rate(lexicon, &corpus, budget, &sink);

    printf("{\"lines\": %zu, \"tokenize_per_second\": %.0f, "
           "\"entities_per_second\": %.0f, "
           "\"entities_to_tokenize\": %.3f, "
           "\"corrections_per_second\": %.0f, \"load_seconds\": %.4f, "
           "\"sink\": %zu}\n",
           corpus.count, tokenize, entities, entities / tokenize, corrections,
           load_seconds, sink);
    nlu_lexicon_free(lexicon);
    nlu_lang_free(lang);
    content_errors_free(&errs);
    corpus_free(&corpus);
    return 0;
}
