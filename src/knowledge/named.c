/* Finding an entry that a visitor names: its title or an alias in the text,
 * compared as folded letters (case and accents ignored, spaces and hyphens
 * too, so "Techniek Academie" matches "techniekacademie"), with one typo
 * allowed in names of six letters or more. */
#include "knowledge/kb_private.h"

#include <stdio.h>
#include <string.h>

/* Text beyond this many tokens is not searched for names. */
#define TOKENS_MAX 256
#define TYPO_MIN_LETTERS 6

typedef struct {
    char folded[TOKENS_MAX][64];
    /* offset[i] is the length of tokens [0, i) joined, so a window's
     * length is known before it is built. */
    size_t offset[TOKENS_MAX + 1];
    size_t count;
} tokens_t;

static int collect(const nlu_token_t *token, void *arg)
{
    tokens_t *t = arg;
    if (t->count == TOKENS_MAX)
        return 1;
    memcpy(t->folded[t->count], token->folded, sizeof token->folded);
    t->offset[t->count + 1] = t->offset[t->count] + strlen(t->folded[t->count]);
    t->count++;
    return 0;
}

/* Returns 1 when `a` and `b` differ by at most one edit (a substitution,
 * an insertion, a deletion or a swap of two neighbouring letters), the
 * same as kb_edit_distance(a, b, 1) <= 1 in time linear in the length. */
static int within_one_edit(const char *a, size_t la, const char *b, size_t lb)
{
    if (la >= 128 || lb >= 128) /* kb_edit_distance's own limit */
        return kb_edit_distance(a, b, 1) <= 1;
    if (la < lb) {
        const char *t = a;
        a = b;
        b = t;
        size_t l = la;
        la = lb;
        lb = l;
    }
    if (la - lb > 1)
        return 0;
    size_t i = 0;
    while (i < lb && a[i] == b[i])
        i++;
    if (i == lb)
        return 1; /* equal, or one letter added at the end */
    if (la > lb)
        return memcmp(a + i + 1, b + i, lb - i) == 0;
    if (memcmp(a + i + 1, b + i + 1, lb - i - 1) == 0)
        return 1;
    return i + 1 < lb && a[i] == b[i + 1] && a[i + 1] == b[i] &&
           memcmp(a + i + 2, b + i + 2, lb - i - 2) == 0;
}

/* Returns 2 for an exact match of a name at tokens [start, start + words),
 * 1 for a match with one typo, 0 otherwise. */
static int match_window(const tokens_t *t, size_t start, size_t words,
                        const kb_name_t *name, size_t length)
{
    char window[256];
    size_t used = t->offset[start + words] - t->offset[start];
    if (used >= sizeof window || used + 1 < length || length + 1 < used)
        return 0;
    used = 0;
    for (size_t i = start; i < start + words; i++) {
        size_t n = t->offset[i + 1] - t->offset[i];
        memcpy(window + used, t->folded[i], n + 1);
        used += n;
    }
    if (used == length && memcmp(window, name->compact, used) == 0)
        return 2;
    if (name->letters >= TYPO_MIN_LETTERS &&
        within_one_edit(window, used, name->compact, length))
        return 1;
    return 0;
}

int kb_find_named(const kb_t *kb, const char *text, char *id, size_t size)
{
    tokens_t t;
    t.count = 0;
    t.offset[0] = 0;
    if (!kb || !text)
        return 0;
    nlu_tokenize(text, strlen(text), collect, &t);

    /* The best match is exact before a typo, then the longest name, then
     * the entry that comes first in the kb files. */
    int best_quality = 0;
    size_t best_letters = 0;
    const kb_item_t *best = NULL;
    for (size_t i = 0; i < kb->count; i++) {
        const kb_item_t *item = &kb->items[i];
        for (size_t n = 0; n < item->name_count; n++) {
            const kb_name_t *name = &item->names[n];
            size_t length = strlen(name->compact);
            size_t low = name->words > 1 ? name->words - 1 : 1;
            for (size_t words = low; words <= name->words + 1; words++)
                for (size_t s = 0; s + words <= t.count; s++) {
                    int quality = match_window(&t, s, words, name, length);
                    if (quality > best_quality ||
                        (quality == best_quality && quality > 0 &&
                         name->letters > best_letters)) {
                        best_quality = quality;
                        best_letters = name->letters;
                        best = item;
                    }
                }
        }
    }
    if (!best)
        return 0;
    snprintf(id, size, "%s", best->id);
    return 1;
}
