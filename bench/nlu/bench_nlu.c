/* Loads the intent model and measures, on one core, how long loading takes
 * and how many utterances per second nlu_parse handles over a labelled
 * test file, with the accuracy on that file. It also times the two halves
 * of a parse apart: entity extraction alone (nlu_extract_entities on the
 * model's language data, which contains the results stored for the words of
 * the examples) and intent classification alone (nlu_classify, given the
 * entities found beforehand), and entity extraction on language data
 * loaded apart, as a program without a model gets it. The model keeps the
 * results of words it does not know for reuse, so repeated passes over the
 * test file find them stored. The first pass of a fresh model over the
 * file is therefore timed apart (cold). Prints one JSON object.
 *
 * Times are CPU seconds of the process, as nlpjs.mjs measures them.
 *
 * With --fresh FILE it also parses every line of FILE once with the same
 * model, after the other figures. bench/nlu/fresh.mjs writes such a file:
 * messages with typos the model has not met, read with the caches of a
 * model in use.
 *
 * With --passes N it times nothing. It parses the file once with a fresh
 * model in cold_pass() and then N times more in warm_passes(), and
 * valgrind --tool=callgrind --toggle-collect=cold_pass (or =warm_passes)
 * then counts the instructions of either alone. With --fresh FILE as well,
 * it then parses every line of FILE once in fresh_pass().
 *
 * usage: bench_nlu INTENTS_DIR LANG_DIR TEST_TSV [SECONDS] [--fresh FILE]
 *        bench_nlu INTENTS_DIR LANG_DIR TEST_TSV --passes N [--fresh FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nlu/classifier.h"
#include "nlu/entities.h"
#include "nlu/eval.h"
#include "nlu/nlu.h"

/* Fresh models loaded for the first-pass (cold) figure. */
#define COLD_ROUNDS 10

/* Returns the CPU time of the process, so that other programs sharing the
 * core do not count against it. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Loads the model `runs` times and returns the fastest load in seconds,
 * keeping the last model in `*model`. */
static double time_load(const char *intents, const char *lang, int runs,
                        nlu_model_t **model)
{
    double best = 1e9;
    for (int i = 0; i < runs; i++) {
        content_errors_t errs = {0};
        double start = now_seconds();
        nlu_model_t *loaded = nlu_load(intents, lang, &errs);
        double took = now_seconds() - start;
        if (!loaded) {
            content_errors_print(&errs, stderr);
            content_errors_free(&errs);
            nlu_free(*model);
            *model = NULL;
            return -1;
        }
        content_errors_free(&errs);
        nlu_free(*model);
        *model = loaded;
        if (took < best)
            best = took;
    }
    return best;
}

typedef enum {
    MEASURE_PARSE,    /* nlu_parse: entities and intents */
    MEASURE_ENTITIES, /* nlu_extract_entities alone */
    MEASURE_PLAIN,    /* the same on language data loaded apart */
    MEASURE_INTENTS,  /* nlu_classify with the entities found beforehand */
} measure_t;

/* Runs one part of the parse over every line of the file, again and again
 * until `budget` seconds are spent, and returns utterances per second.
 * `found` contains each line's nlu_parse result, whose entities the intent
 * classification reuses and whose intents it rewrites. */
static double rate(const nlu_model_t *model, const nlu_lang_t *lang,
                   const nlu_eval_t *eval, nlu_result_t *found,
                   measure_t measure, double budget)
{
    size_t parsed = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < budget) {
        for (size_t i = 0; i < eval->count; i++) {
            nlu_result_t result;
            const char *text = eval->lines[i].text;
            switch (measure) {
            case MEASURE_PARSE:
                nlu_parse(model, text, &result);
                break;
            case MEASURE_ENTITIES:
                nlu_extract_entities(nlu_model_lang(model), text,
                                     result.entities, NLU_MAX_ENTITIES);
                break;
            case MEASURE_PLAIN:
                nlu_extract_entities(lang, text, result.entities,
                                     NLU_MAX_ENTITIES);
                break;
            case MEASURE_INTENTS:
                nlu_classify(model, text, &found[i]);
                break;
            }
        }
        parsed += eval->count;
        elapsed = now_seconds() - start;
    }
    return (double)parsed / elapsed;
}

/* Loads a fresh model `rounds` times and times one nlu_parse pass over
 * the file with each, so that no result of an earlier pass is stored.
 * Returns utterances per second, or -1 when a load fails. */
static double cold_rate(const char *intents, const char *lang_dir,
                        const nlu_eval_t *eval, int rounds)
{
    double spent = 0;
    for (int r = 0; r < rounds; r++) {
        content_errors_t errs = {0};
        nlu_model_t *model = nlu_load(intents, lang_dir, &errs);
        content_errors_free(&errs);
        if (!model)
            return -1;
        double start = now_seconds();
        for (size_t i = 0; i < eval->count; i++) {
            nlu_result_t result;
            nlu_parse(model, eval->lines[i].text, &result);
        }
        spent += now_seconds() - start;
        nlu_free(model);
    }
    return (double)eval->count * rounds / spent;
}

/* Reads the lines of `path` into one buffer, each ending in a NUL, and
 * returns them as an array of `*count` pointers, or NULL. The caller
 * frees the array and then its first element's buffer. */
static char **read_lines(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        if (got == 0)
            break;
        len += got;
    }
    fclose(f);
    buf[len] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    char **lines = malloc((n + 1) * sizeof *lines);
    if (!lines) {
        free(buf);
        return NULL;
    }
    *count = 0;
    for (char *p = buf; *p;) {
        char *end = strchr(p, '\n');
        if (end)
            *end = '\0';
        if (*p)
            lines[(*count)++] = p;
        if (!end)
            break;
        p = end + 1;
    }
    if (*count == 0) {
        free(lines);
        free(buf);
        return NULL;
    }
    return lines;
}

/* Parses each of `count` lines once with `model` and returns utterances
 * per second. */
static double fresh_rate(const nlu_model_t *model, char **lines, size_t count)
{
    double start = now_seconds();
    for (size_t i = 0; i < count; i++) {
        nlu_result_t result;
        nlu_parse(model, lines[i], &result);
    }
    return (double)count / (now_seconds() - start);
}

/* Parses every line of the file once. Not inlined, so that callgrind can
 * collect inside it alone. */
__attribute__((noinline)) static void cold_pass(const nlu_model_t *model,
                                                const nlu_eval_t *eval)
{
    for (size_t i = 0; i < eval->count; i++) {
        nlu_result_t result;
        nlu_parse(model, eval->lines[i].text, &result);
    }
}

/* Parses every line of the file `passes` times. */
__attribute__((noinline)) static void
warm_passes(const nlu_model_t *model, const nlu_eval_t *eval, long passes)
{
    for (long p = 0; p < passes; p++)
        for (size_t i = 0; i < eval->count; i++) {
            nlu_result_t result;
            nlu_parse(model, eval->lines[i].text, &result);
        }
}

/* Parses every line of a file of fresh text once. */
__attribute__((noinline)) static void fresh_pass(const nlu_model_t *model,
                                                 char **lines, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        nlu_result_t result;
        nlu_parse(model, lines[i], &result);
    }
}

/* Loads a fresh model and runs cold_pass(), warm_passes() and, when
 * `fresh_path` is not NULL, fresh_pass() over that file, for callgrind.
 * nlu_eval_run() would parse the file first, so the lines are read with a
 * model loaded apart. Returns the exit status. */
static int count_passes(const char *intents, const char *lang, const char *tsv,
                        long passes, const char *fresh_path)
{
    content_errors_t errs = {0};
    nlu_model_t *reader = nlu_load(intents, lang, &errs);
    if (!reader) {
        content_errors_print(&errs, stderr);
        content_errors_free(&errs);
        return 1;
    }
    nlu_eval_t eval;
    char err[512];
    if (nlu_eval_run(reader, tsv, &eval, err, sizeof err)) {
        fprintf(stderr, "bench_nlu: %s\n", err);
        nlu_eval_free(&eval);
        nlu_free(reader);
        content_errors_free(&errs);
        return 1;
    }
    nlu_free(reader);
    nlu_model_t *model = nlu_load(intents, lang, &errs);
    if (!model) {
        content_errors_print(&errs, stderr);
        content_errors_free(&errs);
        nlu_eval_free(&eval);
        return 1;
    }
    size_t fresh_count = 0;
    char **fresh = fresh_path ? read_lines(fresh_path, &fresh_count) : NULL;
    int rc = fresh_path && !fresh;
    if (rc) {
        fprintf(stderr,
                "bench_nlu: failed to read %s, or it has no lines; check the "
                "path\n",
                fresh_path);
    } else {
        cold_pass(model, &eval);
        warm_passes(model, &eval, passes);
        if (fresh)
            fresh_pass(model, fresh, fresh_count);
        printf("{\"lines\": %zu, \"warm_passes\": %ld, \"fresh_lines\": "
               "%zu}\n",
               eval.count, passes, fresh_count);
    }
    if (fresh) {
        free(fresh[0]);
        free(fresh);
    }
    content_errors_free(&errs);
    nlu_eval_free(&eval);
    nlu_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    const char *fresh_path = NULL;
    if (argc >= 6 && strcmp(argv[argc - 2], "--fresh") == 0) {
        fresh_path = argv[argc - 1];
        argc -= 2;
    }
    if (argc == 6 && strcmp(argv[4], "--passes") == 0)
        return count_passes(argv[1], argv[2], argv[3], atol(argv[5]),
                            fresh_path);
    if (argc < 4 || argc > 5) {
        fprintf(stderr,
                "usage: bench_nlu INTENTS_DIR LANG_DIR TEST_TSV [SECONDS] "
                "[--fresh FILE]\n"
                "       bench_nlu INTENTS_DIR LANG_DIR TEST_TSV --passes N "
                "[--fresh FILE]\n");
        return 2;
    }
    double budget = argc == 5 ? strtod(argv[4], NULL) : 3.0;
    nlu_model_t *model = NULL;
    double load_seconds = time_load(argv[1], argv[2], 3, &model);
    if (!model)
        return 1;

    nlu_eval_t eval;
    content_errors_t errs = {0};
    char err[512];
    if (nlu_eval_run(model, argv[3], &eval, err, sizeof err)) {
        fprintf(stderr, "bench_nlu: %s\n", err);
        nlu_eval_free(&eval);
        nlu_free(model);
        return 1;
    }

    nlu_lang_t *lang = nlu_lang_load(argv[2], &errs);
    nlu_result_t *found = calloc(eval.count ? eval.count : 1, sizeof *found);
    if (!lang || !found) {
        content_errors_print(&errs, stderr);
        fprintf(stderr, "bench_nlu: cannot load %s\n", argv[2]);
        return 1;
    }
    for (size_t i = 0; i < eval.count; i++)
        nlu_parse(model, eval.lines[i].text, &found[i]);

    double full = rate(model, lang, &eval, found, MEASURE_PARSE, budget);
    double entities = rate(model, lang, &eval, found, MEASURE_ENTITIES, budget);
    double intents = rate(model, lang, &eval, found, MEASURE_INTENTS, budget);
    double plain = rate(model, lang, &eval, found, MEASURE_PLAIN, budget);
    double cold = cold_rate(argv[1], argv[2], &eval, COLD_ROUNDS);
    double fresh = 0;
    size_t fresh_count = 0;
    if (fresh_path) {
        char **lines = read_lines(fresh_path, &fresh_count);
        if (!lines) {
            fprintf(stderr,
                    "bench_nlu: failed to read %s, or it has no lines; "
                    "check the path\n",
                    fresh_path);
            return 1;
        }
        fresh = fresh_rate(model, lines, fresh_count);
        free(lines[0]);
        free(lines);
    }

    printf("{\"engine\": \"stemdesk\", \"lines\": %zu, \"accuracy\": %.4f, "
           "\"ece\": %.4f, \"utterances_per_second\": %.0f, "
           "\"cold_utterances_per_second\": %.0f, "
           "\"fresh_lines\": %zu, \"fresh_utterances_per_second\": %.0f, "
           "\"entities_per_second\": %.0f, "
           "\"entities_apart_per_second\": %.0f, "
           "\"classifier_per_second\": %.0f, \"load_seconds\": %.4f}\n",
           eval.count, nlu_eval_accuracy(&eval), nlu_eval_ece(&eval), full,
           cold, fresh_count, fresh, entities, plain, intents, load_seconds);
    free(found);
    nlu_lang_free(lang);
    content_errors_free(&errs);
    nlu_eval_free(&eval);
    nlu_free(model);
    return 0;
}
