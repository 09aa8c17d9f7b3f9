/* Temporary definitions so that the binary links; delete this file when
 * the engine provides them. */
#include "engine/engine.h"
#include <string.h>
dlg_script_t *dlg_load(const char *d, const nlu_model_t *n, const kb_t *k, content_errors_t *e) { (void)d; (void)n; (void)k; (void)e; return NULL; }
void dlg_free(dlg_script_t *s) { (void)s; }
int eng_step(const eng_content_t *c, const json_t *s, const eng_event_t *e, eng_output_t *o) { (void)c; (void)s; (void)e; memset(o, 0, sizeof *o); return -1; }
void eng_output_free(eng_output_t *o) { (void)o; }
const char *eng_state_mode(const json_t *s) { (void)s; return "bot"; }
