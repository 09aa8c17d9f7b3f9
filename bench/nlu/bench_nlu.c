/* Loads the intent model and measures, on one core, how long loading takes
 * and how many utterances per second nlu_parse handles over a labelled
 * test file, with the accuracy on that file. Prints one JSON object.
 *
 * usage: bench_nlu INTENTS_DIR LANG_DIR TEST_TSV [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nlu/eval.h"
#include "nlu/nlu.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr,
                "usage: bench_nlu INTENTS_DIR LANG_DIR TEST_TSV [SECONDS]\n");
        return 2;
    }
    double budget = argc == 5 ? strtod(argv[4], NULL) : 3.0;
    nlu_model_t *model = NULL;
    double load_seconds = time_load(argv[1], argv[2], 3, &model);
    if (!model)
        return 1;

    nlu_eval_t eval;
    char err[512];
    if (nlu_eval_run(model, argv[3], &eval, err, sizeof err)) {
        fprintf(stderr, "bench_nlu: %s\n", err);
        nlu_eval_free(&eval);
        nlu_free(model);
        return 1;
    }

    /* Parse the whole file again and again until the budget is spent. */
    size_t parsed = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < budget) {
        for (size_t i = 0; i < eval.count; i++) {
            nlu_result_t result;
            nlu_parse(model, eval.lines[i].text, &result);
        }
        parsed += eval.count;
        elapsed = now_seconds() - start;
    }

    printf("{\"engine\": \"stemdesk\", \"lines\": %zu, \"accuracy\": %.4f, "
           "\"ece\": %.4f, \"utterances_per_second\": %.0f, "
           "\"load_seconds\": %.4f}\n",
           eval.count, nlu_eval_accuracy(&eval), nlu_eval_ece(&eval),
           (double)parsed / elapsed, load_seconds);
    nlu_eval_free(&eval);
    nlu_free(model);
    return 0;
}
