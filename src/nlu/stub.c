/* Temporary definitions so that the binary links; delete this file when
 * nlu.c provides them. */
#include "nlu/nlu.h"
#include <string.h>
nlu_model_t *nlu_load(const char *i, const char *l, content_errors_t *e)
{
    (void)i; (void)l; (void)e;
    return NULL;
}
void nlu_free(nlu_model_t *m) { (void)m; }
void nlu_parse(const nlu_model_t *m, const char *t, nlu_result_t *o)
{
    (void)m; (void)t; memset(o, 0, sizeof *o);
}
size_t nlu_intent_count(const nlu_model_t *m) { (void)m; return 0; }
const char *nlu_intent_name(const nlu_model_t *m, size_t i) { (void)m; (void)i; return ""; }
int nlu_has_intent(const nlu_model_t *m, const char *n) { (void)m; (void)n; return 0; }
const char *nlu_entity_kind_name(nlu_entity_kind_t k) { (void)k; return ""; }
