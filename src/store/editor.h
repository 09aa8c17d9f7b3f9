/* What the editor pages of the console read: the questions that the bot
 * could not answer (the engine's "unanswered" effects). */
#ifndef STEMDESK_STORE_EDITOR_H
#define STEMDESK_STORE_EDITOR_H

#include <jansson.h>

#include "store/store.h"

/* Fills `out` with a new array of at most `limit` objects {text, count,
 * last}, one per question, the most recently asked first; `last` is in
 * Unix seconds. Questions that differ only in ASCII case or surrounding
 * spaces count as one, and `text` is their latest wording. Returns 0, or
 * -1 with the error logged. */
int store_unanswered_list(store_t *store, int limit, json_t **out);

#endif
