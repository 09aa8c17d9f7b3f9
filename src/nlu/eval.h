/* Scoring a model on a labelled test file, shared by `stemdesk nlu-eval`,
 * the tests and the benchmark. The file is TSV, one utterance a line:
 *
 *   text <TAB> intent [<TAB> kind=value;kind=value]
 *
 * Empty lines and lines starting with '#' are skipped. A third column,
 * even an empty one, lists every entity expected in the text. Kinds whose
 * value is empty (time, number) are compared by their number. */
#ifndef STEMDESK_NLU_EVAL_H
#define STEMDESK_NLU_EVAL_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "nlu/nlu.h"

#define NLU_EVAL_BINS 10 /* bins of the expected calibration error */

/* One scored line. */
typedef struct {
    char *text;
    int gold;      /* intent index */
    int predicted; /* intent index, or -1 when no intent was returned */
    double score;  /* score of the predicted intent */
    int rule_matched;
    int entities_checked; /* the line had a third column */
    size_t entities_expected;
    size_t entities_found;     /* expected and extracted */
    size_t entities_extracted; /* extracted on a checked line */
} nlu_eval_line_t;

typedef struct {
    nlu_eval_line_t *lines;
    size_t count;
    size_t intent_count;
    size_t *confusion; /* intent_count x intent_count, [gold][predicted] */
    size_t unanswered; /* lines with no intent at all */
    double parse_seconds;
} nlu_eval_t;

/* Reads the TSV file and parses every line with `model`. On failure writes
 * a message that names the file and line into `err` and returns -1. The
 * caller releases `eval` with nlu_eval_free() in both cases. */
int nlu_eval_run(const nlu_model_t *model, const char *path, nlu_eval_t *eval,
                 char *err, size_t size);
void nlu_eval_free(nlu_eval_t *eval);

double nlu_eval_accuracy(const nlu_eval_t *eval);

/* Expected calibration error of the top score over NLU_EVAL_BINS equal
 * bins of [0, 1]. */
double nlu_eval_ece(const nlu_eval_t *eval);

/* Writes the human-readable report. */
void nlu_eval_print(const nlu_eval_t *eval, const nlu_model_t *model,
                    FILE *out);

/* Returns the report as a new JSON object, which the caller releases with
 * json_decref(). */
json_t *nlu_eval_json(const nlu_eval_t *eval, const nlu_model_t *model);

#endif
