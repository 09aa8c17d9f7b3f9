/* Entity extraction for the orientation: region (provinces, municipalities
 * with their former municipalities, postcodes), education level (also from
 * ages), time budget in hours per month, company size, sector and goal.
 * All language data comes from the JSON files in lang/. */
#ifndef STEMDESK_NLU_ENTITIES_H
#define STEMDESK_NLU_ENTITIES_H

#include <stddef.h>

#include "common/content.h"
#include "nlu/lexicon.h"
#include "nlu/nlu.h"

typedef struct nlu_lang nlu_lang_t;

/* Loads every language data file in lang_dir. Returns NULL and fills
 * `errs` with file, line, column and a hint on any error. */
nlu_lang_t *nlu_lang_load(const char *lang_dir, content_errors_t *errs);
void nlu_lang_free(nlu_lang_t *lang);

/* Extracts entities from UTF-8 text into `out` (at most `max`, in text
 * order, no overlapping spans) and returns how many. */
size_t nlu_extract_entities(const nlu_lang_t *lang, const char *text,
                            nlu_entity_t *out, size_t max);

/* Adds every word the language data knows (synonyms, place names, number
 * words) to a lexicon, so that typos in them can be corrected. */
int nlu_lang_fill_lexicon(const nlu_lang_t *lang, nlu_lexicon_t *lexicon);

#endif
