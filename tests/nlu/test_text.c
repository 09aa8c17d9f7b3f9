/* The text layer: folding, tokenizing, stemming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "nlu/text.h"

static const char *fold(const char *text)
{
    static char out[256];
    nlu_fold(text, strlen(text), out, sizeof out);
    return out;
}

static void test_fold_case_and_accents(void **state)
{
    (void)state;
    assert_string_equal(fold("België"), "belgie");
    assert_string_equal(fold("Één café"), "een cafe");
    assert_string_equal(fold("ÇÀÉÈÊËÏÎÔÖÛÜ"), "caeeeeiioouu");
    assert_string_equal(fold("Łódź"), "lodz");
    assert_string_equal(fold("IJzer"), "ijzer"); /* "ij" stays two letters */
    assert_string_equal(fold("da’s"), "da's");   /* typographic apostrophe */
    assert_string_equal(fold("W-Vl."), "w-vl.");
}

static void test_fold_keeps_other_scripts(void **state)
{
    (void)state;
    assert_string_equal(fold("Привет"), "Привет");
    assert_string_equal(fold("3×4"), "3×4");
}

static void test_fold_truncates(void **state)
{
    (void)state;
    char out[5];
    size_t n = nlu_fold("Vlaanderen", 10, out, sizeof out);
    assert_int_equal(n, 4);
    assert_string_equal(out, "vlaa");
    /* A multibyte character that does not fit is left out whole. */
    n = nlu_fold("abcПр", strlen("abcПр"), out, sizeof out);
    assert_string_equal(out, "abc");
    assert_int_equal(nlu_fold("x", 1, out, 0), 0);
}

typedef struct {
    nlu_token_t tokens[32];
    size_t count;
    size_t stop_after; /* 0: never stop */
} tokens_t;

static int collect(const nlu_token_t *token, void *arg)
{
    tokens_t *t = arg;
    if (t->count < 32)
        t->tokens[t->count++] = *token;
    return t->stop_after && t->count == t->stop_after ? 7 : 0;
}

static void test_tokenize_spans(void **state)
{
    (void)state;
    const char *text = "Wij zijn met 35 in West-Vlaanderen, da's één!";
    tokens_t t = {0};
    assert_int_equal(nlu_tokenize(text, strlen(text), collect, &t), 0);
    const char *words[] = {"wij",  "zijn",       "met", "35", "in",
                           "west", "vlaanderen", "da",  "s",  "een"};
    assert_int_equal(t.count, 10);
    for (size_t i = 0; i < t.count; i++) {
        assert_string_equal(t.tokens[i].folded, words[i]);
        /* The span covers the token in the original text. */
        char fold_span[64];
        nlu_fold(text + t.tokens[i].start, t.tokens[i].end - t.tokens[i].start,
                 fold_span, sizeof fold_span);
        assert_string_equal(fold_span, words[i]);
    }
    assert_int_equal(t.tokens[3].is_number, 1);
    assert_int_equal(t.tokens[2].is_number, 0);
    assert_int_equal(t.tokens[9].start, strlen("Wij zijn met 35 in "
                                               "West-Vlaanderen, da's "));
    assert_int_equal(t.tokens[9].end, t.tokens[9].start + strlen("één"));
}

static void test_tokenize_stops(void **state)
{
    (void)state;
    tokens_t t = {.stop_after = 2};
    assert_int_equal(nlu_tokenize("een twee drie", 13, collect, &t), 7);
    assert_int_equal(t.count, 2);
}

static void test_tokenize_empty_and_punctuation(void **state)
{
    (void)state;
    tokens_t t = {0};
    assert_int_equal(nlu_tokenize("", 0, collect, &t), 0);
    assert_int_equal(
        nlu_tokenize("?!.,;:-/ …", strlen("?!.,;:-/ …"), collect, &t), 0);
    assert_int_equal(t.count, 0);
}

static void test_tokenize_invalid_utf8(void **state)
{
    (void)state;
    /* Lone continuation bytes, a truncated sequence, an overlong start and
     * a byte that never starts UTF-8 are read as Latin-1, not skipped. */
    const char text[] = "a\x80"
                        "b \xc3 \xe2\x82 \xf0\x9f\x98 \xff z";
    tokens_t t = {0};
    assert_int_equal(nlu_tokenize(text, sizeof text - 1, collect, &t), 0);
    assert_true(t.count >= 2);
    for (size_t i = 0; i < t.count; i++) {
        assert_true(t.tokens[i].start < t.tokens[i].end);
        assert_true(t.tokens[i].end <= sizeof text - 1);
    }
    assert_string_equal(t.tokens[t.count - 1].folded, "z");

    /* Every prefix of a multibyte text is safe, too. */
    const char *multi = "Één ç€😀";
    for (size_t len = 0; len <= strlen(multi); len++) {
        tokens_t u = {0};
        assert_int_equal(nlu_tokenize(multi, len, collect, &u), 0);
        char out[64];
        nlu_fold(multi, len, out, sizeof out);
    }
}

static void test_tokenize_truncates_long_words(void **state)
{
    (void)state;
    char text[200];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    tokens_t t = {0};
    nlu_tokenize(text, strlen(text), collect, &t);
    assert_int_equal(t.count, 1);
    assert_int_equal(strlen(t.tokens[0].folded), 63);
    assert_int_equal(t.tokens[0].end, 199);
}

/* Tokens carry the length and the hash of their folded form, and
 * nlu_tokenize_array() gives the tokens of nlu_tokenize(), for ASCII
 * text (which has a path of its own) and for other text. */
static void test_tokenize_array_hash(void **state)
{
    (void)state;
    char longest[120];
    memset(longest, 'Q', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0';
    const char *texts[] = {"Wij zijn met 35, ABC9x en 0123!", "café Één 4u",
                           "_a_b__c", longest};
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        const char *text = texts[k];
        tokens_t t = {0};
        nlu_tokenize(text, strlen(text), collect, &t);
        nlu_token_t array[32];
        size_t count = nlu_tokenize_array(text, strlen(text), array, 32);
        assert_int_equal(count, t.count);
        for (size_t i = 0; i < count; i++) {
            const nlu_token_t *a = &array[i];
            assert_string_equal(a->folded, t.tokens[i].folded);
            assert_int_equal(a->start, t.tokens[i].start);
            assert_int_equal(a->end, t.tokens[i].end);
            assert_int_equal(a->is_number, t.tokens[i].is_number);
            assert_int_equal(a->len, strlen(a->folded));
            assert_int_equal(t.tokens[i].len, a->len);
            assert_true(a->hash == nlu_word_hash(a->folded, a->len));
            assert_true(t.tokens[i].hash == a->hash);
        }
    }
    nlu_token_t array[8];
    const char *mixed = "ABC9x 0123";
    assert_int_equal(nlu_tokenize_array(mixed, strlen(mixed), array, 8), 2);
    assert_string_equal(array[0].folded, "abc9x");
    assert_int_equal(array[0].is_number, 0);
    assert_int_equal(array[1].is_number, 1);
    assert_int_equal(nlu_tokenize_array(longest, strlen(longest), array, 8), 1);
    assert_int_equal(array[0].len, 63);
}

static void test_stem(void **state)
{
    (void)state;
    nlu_stemmer_t *stemmer = nlu_stemmer_new();
    assert_non_null(stemmer);
    char out[64];
    nlu_stem(stemmer, "bedrijven", out, sizeof out);
    assert_string_equal(out, "bedrijv");
    nlu_stem(stemmer, "leerlingen", out, sizeof out);
    assert_string_equal(out, "leerling");
    nlu_stem(stemmer, "", out, sizeof out);
    assert_string_equal(out, "");
    nlu_stemmer_free(stemmer);
    nlu_stemmer_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_case_and_accents),
        cmocka_unit_test(test_fold_keeps_other_scripts),
        cmocka_unit_test(test_fold_truncates),
        cmocka_unit_test(test_tokenize_spans),
        cmocka_unit_test(test_tokenize_stops),
        cmocka_unit_test(test_tokenize_empty_and_punctuation),
        cmocka_unit_test(test_tokenize_invalid_utf8),
        cmocka_unit_test(test_tokenize_truncates_long_words),
        cmocka_unit_test(test_tokenize_array_hash),
        cmocka_unit_test(test_stem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
