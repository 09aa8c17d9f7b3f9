/* A cheap test that rules out a PCRE2 rule before it runs: the literal
 * strings that every match of the pattern must start with, derived from
 * the pattern when the model loads. Private to src/nlu/. */
#ifndef STEMDESK_NLU_RULE_FILTER_H
#define STEMDESK_NLU_RULE_FILTER_H

#include <stddef.h>
#include <stdint.h>

#define RULE_FILTER_NEEDLES 64

/* The start of a match, as a little-endian word of up to 8 bytes. */
typedef struct {
    uint64_t value;
    uint64_t mask;
} rule_needle_t;

typedef struct {
    int usable;     /* 0 when the pattern gave no strings: always run it */
    int anchored;   /* the pattern starts with "^": matches start at 0 */
    int skip_space; /* an anchored match may start after leading spaces */
    /* The pattern starts with "\b" and every needle with a letter or a
     * digit, so a match starts only where a word does. */
    int word_start;
    int space_first; /* some needle starts with whitespace */
    size_t needle_count;
    rule_needle_t needles[RULE_FILTER_NEEDLES];
    /* Bit i of first[c] is set when needle i starts with byte c. */
    uint64_t first[256];
} rule_filter_t;

/* Derives the filter of a pattern compiled with PCRE2_UTF and
 * PCRE2_CASELESS. A pattern that uses syntax the derivation does not
 * know (lookarounds, back references, inline options, non-ASCII
 * literals) gets an unusable filter, so its rule always runs. */
void rule_filter_build(const char *pattern, rule_filter_t *filter);

/* Returns 0 when the pattern cannot match the folded text[0, len), and 1
 * when it may. The text must be ASCII (see nlu_fold): outside ASCII,
 * caseless matching relates other characters to ASCII letters (the
 * Kelvin sign to "k"), so callers run the rule without asking. */
int rule_filter_pass(const rule_filter_t *filter, const char *text, size_t len);

/* A folded ASCII text prepared once for the filters of every rule. */
typedef struct {
    const char *text;
    size_t len;
    size_t solid; /* offset of the first byte that is not whitespace */
    const uint32_t *starts; /* offsets where a word starts, or NULL */
    size_t start_count;
} rule_text_t;

/* Does what rule_filter_pass() does on the prepared text. `starts` lists
 * every offset i where text[i] is an ASCII letter or digit and i is 0 or
 * text[i - 1] is neither that nor "_"; when it is NULL, filters that
 * would use it scan every byte. */
int rule_filter_pass_text(const rule_filter_t *filter, const rule_text_t *text);

/* Returns 1 when one of the filter's needles starts at text->text[at]. For
 * a filter with word_start set, rule_filter_pass_text() is 1 exactly when
 * this is 1 at one of the word starts. */
int rule_filter_pass_at(const rule_filter_t *filter, const rule_text_t *text,
                        size_t at);

#endif
