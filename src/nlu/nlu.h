/* Dutch language understanding: normalisation, tokenisation, stemming,
 * intent classification with calibrated scores, and the orientation
 * entities. Knows nothing of sockets, sessions or storage.
 *
 * A model is built from the intents/ and lang/ folders when content loads
 * (there is no separate training step) and is read-only afterwards, so one
 * model can serve any number of threads and conversations. */
#ifndef STEMDESK_NLU_H
#define STEMDESK_NLU_H

#include <stddef.h>

#include "common/content.h"

#define NLU_MAX_INTENTS 5   /* top intents returned per utterance */
#define NLU_MAX_ENTITIES 16 /* entities returned per utterance */
#define NLU_NAME_MAX 48
#define NLU_VALUE_MAX 48

typedef struct nlu_model nlu_model_t;

/* Entity kinds. Canonical values of region, level, sector, size and goal
 * are the "value" fields of lang/facets.json. */
typedef enum {
    NLU_ENT_REGION, /* value: region id; text may be a town or postcode */
    NLU_ENT_LEVEL,  /* value: education level id */
    NLU_ENT_TIME,   /* value: "" ; number: hours per month */
    NLU_ENT_SIZE,   /* value: size id; number: employees when stated, or 0 */
    NLU_ENT_SECTOR, /* value: sector id */
    NLU_ENT_GOAL,   /* value: goal id */
    NLU_ENT_NUMBER, /* value: ""; number: a plain number */
    NLU_ENT_KIND_COUNT
} nlu_entity_kind_t;

typedef struct {
    nlu_entity_kind_t kind;
    char value[NLU_VALUE_MAX];
    double number;
    size_t start; /* byte span in the original text: [start, end) */
    size_t end;
} nlu_entity_t;

typedef struct {
    char name[NLU_NAME_MAX];
    double score; /* calibrated probability in [0, 1] */
} nlu_intent_score_t;

typedef struct {
    nlu_intent_score_t intents[NLU_MAX_INTENTS]; /* best first */
    size_t intent_count;
    int rule_matched; /* 1 when a PCRE2 rule decided the top intent */
    nlu_entity_t entities[NLU_MAX_ENTITIES]; /* in text order */
    size_t entity_count;
    size_t word_count;    /* tokens that are not all digits */
    size_t unknown_words; /* of those, words the model neither knows nor
                             corrects nor splits into known words */
} nlu_result_t;

/* Builds a model from every intents/ JSON file and the language data in
 * lang_dir. Returns NULL and fills `errs` (file, line, column, hint) when
 * any file is invalid. The caller frees the model with nlu_free(). */
nlu_model_t *nlu_load(const char *intents_dir, const char *lang_dir,
                      content_errors_t *errs);
void nlu_free(nlu_model_t *model);

/* Classifies one utterance (UTF-8, any length; invalid UTF-8 is treated as
 * Latin-1 bytes) and extracts its entities. Never fails: an empty text gives
 * no intents and no entities. */
void nlu_parse(const nlu_model_t *model, const char *text, nlu_result_t *out);

/* Number of intents and their names, for `stemdesk check` cross-references
 * from dialogs. */
size_t nlu_intent_count(const nlu_model_t *model);
const char *nlu_intent_name(const nlu_model_t *model, size_t index);
int nlu_has_intent(const nlu_model_t *model, const char *name);

const char *nlu_entity_kind_name(nlu_entity_kind_t kind);

#endif
