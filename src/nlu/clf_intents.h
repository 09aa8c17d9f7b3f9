/* Reading and validating the intent files of intents/. Private to
 * src/nlu/. Each file is {"intents": [ ... ]} and each intent has these
 * keys:
 *
 *   name         lower-case identifier, unique over all files (required)
 *   description  text for editors (optional)
 *   examples     at least NLU_MIN_EXAMPLES utterances (required)
 *   patterns     PCRE2 regular expressions matched against the folded text
 *                (lower case, accents removed); optional */
#ifndef STEMDESK_NLU_CLF_INTENTS_H
#define STEMDESK_NLU_CLF_INTENTS_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/content.h"
#include "nlu/nlu.h"

#define NLU_MIN_EXAMPLES 20

typedef struct {
    char name[NLU_NAME_MAX];
    char **examples; /* UTF-8 as written in the file */
    size_t example_count;
    pcre2_code **patterns; /* compiled with PCRE2_UTF and PCRE2_CASELESS */
    char **sources;        /* the pattern text of each, owned */
    size_t pattern_count;
} nlu_intent_def_t;

typedef struct {
    nlu_intent_def_t *items;
    size_t count;
} nlu_intent_set_t;

/* Reads every *.json file in `dir` into `set`. Adds one error per problem
 * found (file, line, column, hint) and returns -1 when there is any; the
 * caller frees `set` with nlu_intent_set_free() in both cases. */
int nlu_intent_set_load(const char *dir, nlu_intent_set_t *set,
                        content_errors_t *errs);
void nlu_intent_set_free(nlu_intent_set_t *set);

#endif
