/* Lexicon: membership, compound splitting and typo correction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nlu/lexicon.h"

static const char *const vocabulary[] = {
    "bedrijf",      "bezoek",    "bezoeken",  "school",      "leerkracht",
    "leerkrachten", "opleiding", "techniek",  "stage",       "plaats",
    "dag",          "week",      "jongeren",  "werk",        "plek",
    "leren",        "kind",      "kinderen",  "boek",        "open",
    "voeding",      "sector",    "metaal",    "bewerking",   "ict",
    "bouw",         "limburg",   "antwerpen", "hasselt",     "oostende",
    "mol",          "boom",      "zele",      "lier",        "techniekles",
    "wetenschap",   "onderwijs", "secundair", "technologie", "personeel",
};

static int setup(void **state)
{
    nlu_lexicon_t *lex = nlu_lexicon_new();
    if (!lex)
        return -1;
    for (size_t i = 0; i < sizeof vocabulary / sizeof *vocabulary; i++)
        if (nlu_lexicon_add(lex, vocabulary[i]) != 0)
            return -1;
    *state = lex;
    return 0;
}

static int teardown(void **state)
{
    nlu_lexicon_free(*state);
    return 0;
}

static void test_lexicon_membership(void **state)
{
    nlu_lexicon_t *lex = *state;
    assert_true(nlu_lexicon_has(lex, "bedrijf"));
    assert_true(nlu_lexicon_has(lex, "ict"));
    assert_false(nlu_lexicon_has(lex, "bedrij"));
    assert_false(nlu_lexicon_has(lex, "bedrijfs"));
    assert_false(nlu_lexicon_has(lex, ""));
    assert_int_equal(nlu_lexicon_add(lex, "bedrijf"), 0); /* duplicate */
}

static void test_lexicon_grows(void **state)
{
    (void)state;
    nlu_lexicon_t *lex = nlu_lexicon_new();
    assert_non_null(lex);
    char word[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(word, sizeof word, "woord%dx", i);
        assert_int_equal(nlu_lexicon_add(lex, word), 0);
    }
    for (int i = 0; i < 20000; i += 997) {
        snprintf(word, sizeof word, "woord%dx", i);
        assert_true(nlu_lexicon_has(lex, word));
    }
    assert_false(nlu_lexicon_has(lex, "woord20000x"));
    /* Correction still finds words indexed before the tables grew. */
    char out[64];
    assert_int_equal(nlu_lexicon_correct(lex, "wooord7777x", out, sizeof out),
                     1);
    assert_string_equal(out, "woord7777x");
    assert_int_equal(nlu_lexicon_correct(lex, "woord7777xyz", out, sizeof out),
                     1);
    assert_string_equal(out, "woord7777x");
    nlu_lexicon_free(lex);
}

/* Splits `word` and joins the parts with '+', or "" when not split. */
static const char *split(nlu_lexicon_t *lex, const char *word)
{
    static char joined[256];
    char parts[6][NLU_PART_MAX];
    size_t n = nlu_split_compound(lex, word, parts, 6);
    joined[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strcat(joined, "+");
        strcat(joined, parts[i]);
    }
    return joined;
}

static void test_split_compounds(void **state)
{
    nlu_lexicon_t *lex = *state;
    assert_string_equal(split(lex, "bedrijfsbezoeken"), "bedrijf+bezoeken");
    assert_string_equal(split(lex, "bedrijfsbezoek"), "bedrijf+bezoek");
    assert_string_equal(split(lex, "schoolbezoek"), "school+bezoek");
    assert_string_equal(split(lex, "stageplaats"), "stage+plaats");
    assert_string_equal(split(lex, "werkplekleren"), "werk+plek+leren");
    assert_string_equal(split(lex, "schoolbezoeken"), "school+bezoeken");
}

static void test_split_linking_letters(void **state)
{
    nlu_lexicon_t *lex = *state;
    /* "en": kind + en + boek; the whole word "kinderen" is not a part. */
    assert_string_equal(split(lex, "kindenboek"), "kind+boek");
    /* "e": dag + e + week is not Dutch, but the rule allows the letter. */
    assert_string_equal(split(lex, "dageweek"), "dag+week");
    /* Fewer link letters win: leerkrachten + opleiding, not
     * leerkracht + en + opleiding. */
    assert_string_equal(split(lex, "leerkrachtenopleiding"),
                        "leerkrachten+opleiding");
    assert_string_equal(split(lex, "metaalbewerking"), "metaal+bewerking");
    assert_string_equal(split(lex, "voedingssector"), "voeding+sector");
}

static void test_split_rejects(void **state)
{
    nlu_lexicon_t *lex = *state;
    char parts[4][NLU_PART_MAX];
    /* A known word is not split. */
    assert_int_equal(nlu_split_compound(lex, "techniekles", parts, 4), 0);
    assert_int_equal(nlu_split_compound(lex, "bedrijf", parts, 4), 0);
    /* Unknown remainder, trailing link letter, parts too short. */
    assert_int_equal(nlu_split_compound(lex, "bedrijfxyz", parts, 4), 0);
    assert_int_equal(nlu_split_compound(lex, "bedrijfs", parts, 4), 0);
    assert_int_equal(nlu_split_compound(lex, "bedrijfsbezoekens", parts, 4), 0);
    assert_int_equal(nlu_split_compound(lex, "", parts, 4), 0);
    /* Three parts do not fit in two. */
    assert_int_equal(nlu_split_compound(lex, "werkplekleren", parts, 2), 0);
}

static void test_split_prefers_longer_first_part(void **state)
{
    nlu_lexicon_t *lex = *state;
    const char *words[] = {"tuin", "tuinbouw", "bouwfirma", "firma"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        assert_int_equal(nlu_lexicon_add(lex, words[i]), 0);
    /* Two parts either way: the longer first part wins. */
    assert_string_equal(split(lex, "tuinbouwfirma"), "tuinbouw+firma");
}

static const char *correct(nlu_lexicon_t *lex, const char *word)
{
    static char out[64];
    if (!nlu_lexicon_correct(lex, word, out, sizeof out))
        return "";
    return out;
}

static void test_correct_one_edit(void **state)
{
    nlu_lexicon_t *lex = *state;
    assert_string_equal(correct(lex, "scool"), "school");   /* deletion */
    assert_string_equal(correct(lex, "schoool"), "school"); /* insertion */
    assert_string_equal(correct(lex, "metall"), "metaal");
    assert_string_equal(correct(lex, "metaak"), "metaal");   /* substitution */
    assert_string_equal(correct(lex, "hasslet"), "hasselt"); /* swap */
    assert_string_equal(correct(lex, "bedrjif"), "bedrijf");
}

static void test_correct_two_edits(void **state)
{
    nlu_lexicon_t *lex = *state;
    assert_string_equal(correct(lex, "techinek"), "techniek");
    assert_string_equal(correct(lex, "tecnhiek"), "techniek");
    assert_string_equal(correct(lex, "oostnede"), "oostende");
    assert_string_equal(correct(lex, "leerkrahten"), "leerkrachten");
    assert_string_equal(correct(lex, "onderwjs"), "onderwijs");
    assert_string_equal(correct(lex, "persneel"), "personeel");
    assert_string_equal(correct(lex, "wetenschp"), "wetenschap");
}

static void test_correct_limits(void **state)
{
    nlu_lexicon_t *lex = *state;
    /* Words of 5 to 7 letters get one edit, not two. */
    assert_string_equal(correct(lex, "skoool"), "");
    assert_string_equal(correct(lex, "metxxl"), "");
    /* Words of 8 letters or more get two edits, not three. */
    assert_string_equal(correct(lex, "tachnoak"), "");
    /* Short words are never corrected: no over-correction. */
    assert_string_equal(correct(lex, "mool"), "");
    assert_string_equal(correct(lex, "bom"), "");
    assert_string_equal(correct(lex, "zee"), "");
    assert_string_equal(correct(lex, "lie"), "");
    assert_string_equal(correct(lex, "dak"), "");
    /* A known word is returned as itself. */
    assert_string_equal(correct(lex, "mol"), "mol");
    assert_string_equal(correct(lex, "school"), "school");
    /* Nothing near. */
    assert_string_equal(correct(lex, "qqqqqqqq"), "");
    assert_string_equal(correct(lex, ""), "");
}

static void test_correct_truncates_output(void **state)
{
    nlu_lexicon_t *lex = *state;
    char out[4];
    assert_int_equal(nlu_lexicon_correct(lex, "scool", out, sizeof out), 1);
    assert_string_equal(out, "sch");
}

/* Makes a pseudo-random word of 6 to 12 lower-case letters. */
static void random_word(uint32_t *seed, char *out)
{
    *seed = *seed * 1103515245u + 12345u;
    size_t len = 6 + (*seed >> 16) % 7;
    for (size_t i = 0; i < len; i++) {
        *seed = *seed * 1103515245u + 12345u;
        out[i] = (char)('a' + (*seed >> 16) % 26);
    }
    out[len] = '\0';
}

/* The classifier corrects every unknown token, so a lookup in a lexicon of
 * 20,000 words must stay in the microseconds. The bound is loose because
 * the sanitizers slow the build down several times. */
static void test_correct_speed(void **state)
{
    (void)state;
    nlu_lexicon_t *lex = nlu_lexicon_new();
    assert_non_null(lex);
    char word[32];
    uint32_t seed = 7;
    for (int i = 0; i < 20000; i++) {
        random_word(&seed, word);
        assert_int_equal(nlu_lexicon_add(lex, word), 0);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int found = 0;
    char out[64];
    seed = 7;
    for (int i = 0; i < 20000; i++) {
        random_word(&seed, word);
        word[2] = word[2] == 'q' ? 'x' : 'q'; /* one substitution */
        found += nlu_lexicon_correct(lex, word, out, sizeof out);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("20000 corrections in %.3f s\n", seconds);
    assert_int_equal(found, 20000);
    assert_true(seconds < 10.0);
    nlu_lexicon_free(lex);
}

/* Writes to `out` a variant of `word` with up to two random edits
 * (deletion, insertion, substitution or swap of neighbours). */
static void random_typo(uint32_t *seed, const char *word, char *out)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", word);
    *seed = *seed * 1103515245u + 12345u;
    int edits = (int)((*seed >> 16) % 3);
    for (int e = 0; e < edits; e++) {
        size_t len = strlen(buf);
        *seed = *seed * 1103515245u + 12345u;
        size_t at = len ? (*seed >> 16) % len : 0;
        *seed = *seed * 1103515245u + 12345u;
        char letter = (char)('a' + (*seed >> 16) % 26);
        switch ((*seed >> 8) % 4) {
        case 0: /* deletion */
            if (len > 0)
                memmove(buf + at, buf + at + 1, len - at);
            break;
        case 1: /* insertion */
            if (len + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, len - at + 1);
                buf[at] = letter;
            }
            break;
        case 2: /* substitution */
            if (len > 0)
                buf[at] = letter;
            break;
        default: /* swap with the next letter */
            if (at + 1 < len) {
                char c = buf[at];
                buf[at] = buf[at + 1];
                buf[at + 1] = c;
            }
            break;
        }
    }
    snprintf(out, 64, "%s", buf);
}

/* A corrector over several lexicons gives, for each of them, the word that
 * nlu_lexicon_correct() gives against it alone, ties included: the
 * lexicons overlap and list their words in other orders. The second round
 * reads the results the corrector kept. */
static void test_corrector_matches_lexicons(void **state)
{
    (void)state;
    size_t n = sizeof vocabulary / sizeof *vocabulary;
    nlu_lexicon_t *lexicons[3];
    for (size_t l = 0; l < 3; l++) {
        lexicons[l] = nlu_lexicon_new();
        assert_non_null(lexicons[l]);
    }
    for (size_t i = 0; i < n; i++) {
        /* All words, in order; every other word, backwards; the words
         * of the first half plus near neighbours of them. */
        assert_int_equal(nlu_lexicon_add(lexicons[0], vocabulary[i]), 0);
        if ((n - 1 - i) % 2 == 0)
            assert_int_equal(
                nlu_lexicon_add(lexicons[1], vocabulary[n - 1 - i]), 0);
        if (i < n / 2) {
            char near[64];
            snprintf(near, sizeof near, "%sx", vocabulary[i]);
            assert_int_equal(nlu_lexicon_add(lexicons[2], near), 0);
            assert_int_equal(nlu_lexicon_add(lexicons[2], vocabulary[i]), 0);
        }
    }
    const nlu_lexicon_t *all[3] = {lexicons[0], lexicons[1], lexicons[2]};
    nlu_corrector_t *corrector = nlu_corrector_new(all, 3);
    assert_non_null(corrector);

    int corrected = 0;
    for (int round = 0; round < 2; round++) {
        uint32_t seed = 11;
        for (size_t t = 0; t < 2000; t++) {
            char query[64];
            random_typo(&seed, vocabulary[t % n], query);
            uint32_t found[NLU_CORRECT_MAX];
            nlu_corrector_correct(corrector, query, found);
            for (size_t l = 0; l < 3; l++) {
                char alone[64];
                if (!nlu_lexicon_correct(lexicons[l], query, alone,
                                         sizeof alone)) {
                    assert_int_equal(found[l], NLU_NO_CORRECTION);
                    continue;
                }
                assert_int_not_equal(found[l], NLU_NO_CORRECTION);
                assert_string_equal(nlu_lexicon_word(lexicons[l], found[l]),
                                    alone);
                corrected += strcmp(alone, query) != 0;
            }
        }
    }
    /* The typos did reach the search, not only known words. */
    assert_true(corrected > 1000);
    nlu_corrector_free(corrector);
    for (size_t l = 0; l < 3; l++)
        nlu_lexicon_free(lexicons[l]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lexicon_membership, setup,
                                        teardown),
        cmocka_unit_test(test_lexicon_grows),
        cmocka_unit_test_setup_teardown(test_split_compounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_linking_letters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_split_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_prefers_longer_first_part,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_correct_one_edit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_correct_two_edits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_correct_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_correct_truncates_output, setup,
                                        teardown),
        cmocka_unit_test(test_correct_speed),
        cmocka_unit_test(test_corrector_matches_lexicons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
