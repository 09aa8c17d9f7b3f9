/* Helpers shared by the knowledge tests: loading a kb folder with the
 * repository's lang/ and failing with every content error printed. */
#ifndef STEMDESK_KB_TEST_H
#define STEMDESK_KB_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "knowledge/kb.h"

#define FIXTURE_KB "tests/knowledge/fixtures/basic"
#define LANG_DIR "lang"

/* Loads a kb that must be valid; prints the errors and fails otherwise.
 * The caller frees with kb_free(). */
static inline kb_t *load_valid(const char *dir)
{
    content_errors_t errs = {0};
    kb_t *kb = kb_load(dir, LANG_DIR, &errs);
    if (!kb)
        content_errors_print(&errs, stderr);
    assert_non_null(kb);
    assert_int_equal(errs.count, 0);
    content_errors_free(&errs);
    return kb;
}

/* Returns the rank (0-based) of `id` among the hits, or -1. */
static inline int rank_of(const kb_hit_t *hits, size_t count, const char *id)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(hits[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* Returns 1 when one of the hit's reasons contains `text`. */
static inline int has_reason(const kb_hit_t *hit, const char *text)
{
    for (size_t i = 0; i < hit->reason_count; i++)
        if (strstr(hit->reasons[i], text))
            return 1;
    return 0;
}

#endif
