/* nlu_load and nlu_parse on the real intents/ and lang/ folders, and the
 * validation of broken intent files. Runs from the repository root. */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nlu/classifier.h"
#include "nlu/entities.h"
#include "nlu/nlu.h"

static const char *const utterances[] = {
    "hallo",
    "welke initiatieven zijn er voor het tso in Limburg",
    "hoeveel tijd kost een gastles",
    "ik wil met een adviseur spreken",
    "we zitten in Gent",
    "wa voor weer wordt het",
    "bedrijfsbezoeken organiseren, hebt ge tips?",
    "technikacademie",
};

static int setup_model(void **state)
{
    content_errors_t errs = {0};
    nlu_model_t *model = nlu_load("intents", "lang", &errs);
    if (!model)
        content_errors_print(&errs, stderr);
    content_errors_free(&errs);
    *state = model;
    return model ? 0 : -1;
}

static int teardown_model(void **state)
{
    nlu_free(*state);
    return 0;
}

/* Checks the invariants every result must hold. */
static void assert_valid_result(const nlu_model_t *model,
                                const nlu_result_t *result)
{
    double sum = 0;
    assert_true(result->intent_count <= NLU_MAX_INTENTS);
    for (size_t i = 0; i < result->intent_count; i++) {
        double score = result->intents[i].score;
        assert_true(score >= 0.0);
        assert_true(score <= 1.0);
        if (i > 0)
            assert_true(score <= result->intents[i - 1].score);
        assert_true(nlu_has_intent(model, result->intents[i].name));
        sum += score;
    }
    assert_true(sum <= 1.0 + 1e-6);
    assert_true(result->entity_count <= NLU_MAX_ENTITIES);
}

static void parse_scores_sorted(void **state)
{
    const nlu_model_t *model = *state;
    for (size_t i = 0; i < sizeof utterances / sizeof *utterances; i++) {
        nlu_result_t result;
        nlu_parse(model, utterances[i], &result);
        assert_int_equal(result.intent_count, NLU_MAX_INTENTS);
        assert_valid_result(model, &result);
    }
}

static void parse_rule_decides(void **state)
{
    nlu_result_t result;
    nlu_parse(*state, "Hallo!", &result);
    assert_int_equal(result.rule_matched, 1);
    assert_string_equal(result.intents[0].name, "greeting");
    assert_true(result.intents[0].score >= 0.9);

    nlu_parse(*state, "ja, dat klopt", &result);
    assert_int_equal(result.rule_matched, 1);
    assert_string_equal(result.intents[0].name, "affirm");
}

static void parse_without_rule(void **state)
{
    nlu_result_t result;
    nlu_parse(*state, "welke projecten kunnen we sponsoren", &result);
    assert_int_equal(result.rule_matched, 0);
    assert_string_equal(result.intents[0].name, "find_initiative");
}

static void parse_empty_text(void **state)
{
    nlu_result_t result;
    nlu_parse(*state, "", &result);
    assert_int_equal(result.intent_count, 0);
    assert_int_equal(result.entity_count, 0);
    assert_int_equal(result.rule_matched, 0);

    nlu_parse(*state, "  ?! ...", &result);
    assert_int_equal(result.intent_count, 0);

    nlu_parse(*state, NULL, &result);
    assert_int_equal(result.intent_count, 0);
}

static void parse_long_text(void **state)
{
    const char *piece = "we willen stageplaatsen aanbieden in Kortrijk, ";
    size_t size = 4096;
    char *text = malloc(size + 1);
    assert_non_null(text);
    size_t used = 0;
    while (used + strlen(piece) <= size) {
        memcpy(text + used, piece, strlen(piece));
        used += strlen(piece);
    }
    memset(text + used, 'x', size - used);
    text[size] = '\0';

    nlu_result_t result;
    nlu_parse(*state, text, &result);
    assert_int_equal(result.intent_count, NLU_MAX_INTENTS);
    assert_valid_result(*state, &result);
    assert_string_equal(result.intents[0].name, "offer_to_schools");
    free(text);
}

static void parse_invalid_utf8(void **state)
{
    static const char *const texts[] = {
        "caf\xe9 \xff\xfe hallo",
        "\xc3",
        "ik wil \xe2\x82 iemand spreken",
        "\xf0\x9f\x98\x80\xf0\x9f",
        "\x80\x80\x80\x80",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        nlu_result_t result;
        nlu_parse(*state, texts[i], &result);
        assert_valid_result(*state, &result);
    }
}

/* The compiled path sums the same float weights as the feature list in
 * another order; on the test file the largest difference is about 1e-6. */
#define REFERENCE_TOLERANCE 5e-6

/* Checks nlu_parse() against nlu_parse_reference() on one text: the same
 * entities, the same rule decision and the same intents and scores. */
static void check_against_reference(const nlu_model_t *model,
                                    const nlu_lang_t *lang, const char *text)
{
    nlu_result_t fast, slow;
    nlu_parse(model, text, &fast);
    nlu_parse_reference(model, lang, text, &slow);
    if (fast.intent_count != slow.intent_count ||
        fast.entity_count != slow.entity_count)
        fail_msg("counts differ for \"%s\"", text);
    assert_int_equal(fast.rule_matched, slow.rule_matched);
    for (size_t i = 0; i < fast.intent_count; i++) {
        assert_float_equal(fast.intents[i].score, slow.intents[i].score,
                           REFERENCE_TOLERANCE);
        /* Scores that tie within the tolerance may swap places. */
        double gap = i + 1 < slow.intent_count
                         ? slow.intents[i].score - slow.intents[i + 1].score
                         : 1.0;
        if (gap > REFERENCE_TOLERANCE &&
            (i == 0 || slow.intents[i - 1].score - slow.intents[i].score >
                           REFERENCE_TOLERANCE))
            assert_string_equal(fast.intents[i].name, slow.intents[i].name);
    }
    for (size_t i = 0; i < fast.entity_count; i++) {
        const nlu_entity_t *a = &fast.entities[i], *b = &slow.entities[i];
        assert_int_equal(a->kind, b->kind);
        assert_string_equal(a->value, b->value);
        assert_float_equal(a->number, b->number, 1e-9);
        assert_int_equal(a->start, b->start);
        assert_int_equal(a->end, b->end);
    }
}

/* Writes `text` with the two letters in the middle of its longest word
 * swapped, a typo that the lexicon may correct. */
static void add_typo(const char *text, char *out, size_t size)
{
    snprintf(out, size, "%s", text);
    size_t best = 0, best_len = 0, at = 0;
    while (out[at]) {
        size_t len = strcspn(out + at, " ,.?!");
        if (len > best_len) {
            best = at;
            best_len = len;
        }
        at += len ? len : 1;
    }
    if (best_len >= 4) {
        char *mid = out + best + best_len / 2;
        char swap = mid[0];
        mid[0] = mid[-1];
        mid[-1] = swap;
    }
}

/* Every line of the held-out file, and copies in capitals, with a typo
 * and with unknown words appended, parse as the slow path does. The
 * language data for the reference is loaded apart, without the results
 * the model stores for its words. */
static void parse_matches_reference(void **state)
{
    const nlu_model_t *model = *state;
    content_errors_t errs = {0};
    nlu_lang_t *lang = nlu_lang_load("lang", &errs);
    content_errors_free(&errs);
    assert_non_null(lang);
    FILE *file = fopen("tests/nlu/intents-test.tsv", "r");
    assert_non_null(file);

    static const char *const extra[] = {
        "",
        "...",
        "  ja hoor!",
        "Ok, bedankt voor de info",
        "café één ÉÉN naïef",
        "\xe2\x84\xaalopt", /* the Kelvin sign, caselessly a "k" */
        "technologiebedrijfsbezoekje xyzzy 12,5 uur per week in 3500",
        "weet ik niet",
        "okay , thx",
        " \tDank je wel!",
        "ok ja",
        "zeg, met een mens praten aub",
        "ik_wil met een mens praten",
        "wat is een checklist_",
        "_te veel werk",
        "te_veel werk, of TE ZWAAR",
        "   HALLO DAAR ALLEMAAL!",
        "\thallo",
        "doodgewoon een draaiboek",
        "do's en don'ts",
        "Dos & DONTS",
        "4u per week, 2de keer, 12-14 jaar",
        "Wij zijn met 35 in West-Vlaanderen, da's een goede praktijk",
    };
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++)
        check_against_reference(model, lang, extra[i]);

    /* More tokens than a parse shares between its steps: the rule
     * filters then find the word starts themselves. */
    char longer[1024] = "";
    for (int i = 0; i < 70; i++)
        strcat(longer, "nog ");
    strcat(longer, "met een mens praten");
    check_against_reference(model, lang, longer);

    char line[2048], variant[2200];
    size_t lines = 0;
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\t\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#')
            continue;
        check_against_reference(model, lang, line);
        for (char *c = line; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        check_against_reference(model, lang, line);
        add_typo(line, variant, sizeof variant);
        check_against_reference(model, lang, variant);
        snprintf(variant, sizeof variant, "%s onderwijsbedrijfjes qwertyuiop",
                 line);
        check_against_reference(model, lang, variant);
        lines++;
    }
    fclose(file);
    nlu_lang_free(lang);
    assert_true(lines > 200);
}

/* A word the model does not know is parsed from its stored results the
 * second time: the result must be the same as the first time. */
static void parse_unknown_twice(void **state)
{
    const nlu_model_t *model = *state;
    static const char *const texts[] = {
        "wij zijn een klein metaalbdrijf in Lueven",
        "kunnen jullie ons helpen met een stagepltas voor zeventienjarigen",
        "zorgbedrijfjes blorptech frobnicatie 25 wreknemers",
        "ik wil een echte persoonn spreken",
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        nlu_result_t first, second;
        nlu_parse(model, texts[i], &first);
        nlu_parse(model, texts[i], &second);
        assert_int_equal(first.intent_count, second.intent_count);
        assert_int_equal(first.entity_count, second.entity_count);
        assert_int_equal(first.rule_matched, second.rule_matched);
        for (size_t k = 0; k < first.intent_count; k++) {
            assert_string_equal(first.intents[k].name, second.intents[k].name);
            assert_true(first.intents[k].score == second.intents[k].score);
        }
        for (size_t k = 0; k < first.entity_count; k++) {
            assert_int_equal(first.entities[k].kind, second.entities[k].kind);
            assert_string_equal(first.entities[k].value,
                                second.entities[k].value);
            assert_int_equal(first.entities[k].start, second.entities[k].start);
            assert_int_equal(first.entities[k].end, second.entities[k].end);
        }
    }
}

static void model_names_intents(void **state)
{
    const nlu_model_t *model = *state;
    static const char *const required[] = {
        "greeting",
        "thanks",
        "goodbye",
        "ask_human",
        "start_orientation",
        "find_initiative",
        "initiative_info",
        "join_initiative",
        "effort_cost",
        "less_time",
        "return_on_investment",
        "checklist",
        "good_practice",
        "dos_donts",
        "partner_contact",
        "offer_to_schools",
        "answer_slot",
        "correction",
        "dont_know",
        "frustration",
        "out_of_scope",
        "affirm",
        "deny",
    };
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        assert_true(nlu_has_intent(model, required[i]));
    assert_false(nlu_has_intent(model, "no_such_intent"));
    assert_int_equal(nlu_intent_count(model), 23);
    assert_non_null(nlu_intent_name(model, 0));
    assert_null(nlu_intent_name(model, nlu_intent_count(model)));
    assert_string_equal(nlu_entity_kind_name(NLU_ENT_REGION), "region");
    assert_string_equal(nlu_entity_kind_name(NLU_ENT_TIME), "time");
}

static void load_twice(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        content_errors_t errs = {0};
        nlu_model_t *model = nlu_load("intents", "lang", &errs);
        assert_non_null(model);
        assert_int_equal(errs.count, 0);
        nlu_result_t result;
        nlu_parse(model, "hoeveel kost dat", &result);
        assert_string_equal(result.intents[0].name, "effort_cost");
        nlu_free(model);
        content_errors_free(&errs);
    }
    nlu_free(NULL);
}

/* Writes `text` as the file `name` of the folder `dir`. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Writes `json` as the only intent file of a new folder; returns its
 * path in `dir`. */
static void write_intents(char *dir, const char *json)
{
    strcpy(dir, "/tmp/stemdesk-intents-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file(dir, "test.json", json);
}

/* Writes `text` as the calibration file of the folder `dir`. */
static void write_calibration(const char *dir, const char *text)
{
    write_file(dir, "calibration.tsv", text);
}

static void remove_intents(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/test.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/calibration.tsv", dir);
    unlink(path);
    rmdir(dir);
}

/* Twenty examples in JSON for an intent. */
#define TWENTY                                                                 \
    "[\"a1\",\"a2\",\"a3\",\"a4\",\"a5\",\"a6\",\"a7\",\"a8\",\"a9\","         \
    "\"a10\",\"a11\",\"a12\",\"a13\",\"a14\",\"a15\",\"a16\",\"a17\","         \
    "\"a18\",\"a19\",\"a20\"]"
#define TWENTY_B                                                               \
    "[\"b1\",\"b2\",\"b3\",\"b4\",\"b5\",\"b6\",\"b7\",\"b8\",\"b9\","         \
    "\"b10\",\"b11\",\"b12\",\"b13\",\"b14\",\"b15\",\"b16\",\"b17\","         \
    "\"b18\",\"b19\",\"b20\"]"

/* Loads a broken folder and returns the first error. */
static content_error_t load_broken(const char *json, size_t *count)
{
    char dir[64];
    write_intents(dir, json);
    content_errors_t errs = {0};
    nlu_model_t *model = nlu_load(dir, "lang", &errs);
    assert_null(model);
    assert_true(errs.count >= 1);
    content_error_t first = errs.items[0];
    *count = errs.count;
    content_errors_free(&errs);
    remove_intents(dir);
    return first;
}

#define TWO_INTENTS                                                            \
    "{\"intents\": [\n"                                                        \
    "{\"name\": \"a\", \"examples\": " TWENTY "},\n"                           \
    "{\"name\": \"b\", \"examples\": " TWENTY_B "}]}\n"

static void load_rejects_bad_calibration(void **state)
{
    (void)state;
    char dir[64];
    write_intents(dir, TWO_INTENTS);
    write_calibration(dir, "# comment\na1\ta\nb1\tnope\nno tab here\n");
    content_errors_t errs = {0};
    assert_null(nlu_load(dir, "lang", &errs));
    assert_int_equal(errs.count, 2);
    assert_non_null(strstr(errs.items[0].file, "calibration.tsv"));
    assert_int_equal(errs.items[0].line, 3);
    assert_int_equal(errs.items[0].column, 4);
    assert_non_null(strstr(errs.items[0].message, "unknown intent \"nope\""));
    assert_int_equal(errs.items[1].line, 4);
    assert_non_null(strstr(errs.items[1].message, "missing message or tab"));
    content_errors_free(&errs);
    remove_intents(dir);
}

/* Returns the top score of `text` for the model of `dir`. */
static double top_score(const char *dir, const char *text)
{
    content_errors_t errs = {0};
    nlu_model_t *model = nlu_load(dir, "lang", &errs);
    assert_non_null(model);
    nlu_result_t result;
    nlu_parse(model, text, &result);
    assert_true(result.intent_count > 0);
    double score = result.intents[0].score;
    nlu_free(model);
    content_errors_free(&errs);
    return score;
}

/* Messages labelled half wrong ask for a flatter softmax than the folds of
 * the examples: the top score of a clear message goes down. */
static void calibration_file_sets_temperature(void **state)
{
    (void)state;
    char dir[64];
    write_intents(dir, TWO_INTENTS);
    double folds = top_score(dir, "a7");
    write_calibration(dir, "a1\ta\na2\tb\nb1\tb\nb2\ta\n");
    double file = top_score(dir, "a7");
    if (!(file < folds - 0.1))
        fail_msg("score %.4f with the file, %.4f without", file, folds);
    remove_intents(dir);
}

static void load_rejects_duplicate_name(void **state)
{
    (void)state;
    size_t count;
    content_error_t e =
        load_broken("{\"intents\": [\n"
                    "{\"name\": \"a\", \"examples\": " TWENTY "},\n"
                    "{\"name\": \"a\", \"examples\": " TWENTY_B "}]}\n",
                    &count);
    assert_int_equal(e.line, 3);
    assert_non_null(strstr(e.message, "duplicate intent name \"a\""));
}

static void load_rejects_few_examples(void **state)
{
    (void)state;
    size_t count;
    content_error_t e =
        load_broken("{\"intents\": [\n"
                    "{\"name\": \"a\", \"examples\": [\"hallo\", \"hoi\"]},\n"
                    "{\"name\": \"b\", \"examples\": " TWENTY_B "}]}\n",
                    &count);
    assert_int_equal(count, 1);
    assert_int_equal(e.line, 2);
    assert_non_null(strstr(e.message, "has 2 examples; at least 20"));
}

static void load_rejects_bad_pattern(void **state)
{
    (void)state;
    size_t count;
    content_error_t e =
        load_broken("{\"intents\": [\n"
                    "{\"name\": \"a\", \"examples\": " TWENTY ",\n"
                    " \"patterns\": [\"^(ja|nee\"]},\n"
                    "{\"name\": \"b\", \"examples\": " TWENTY_B "}]}\n",
                    &count);
    assert_int_equal(count, 1);
    assert_int_equal(e.line, 3);
    /* The quote is at column 15 and PCRE2 reports offset 8, the end. */
    assert_int_equal(e.column, 15 + 1 + 8);
    assert_non_null(strstr(e.message, "invalid pattern"));
    assert_non_null(strstr(e.message, "offset 8"));
}

static void load_rejects_wrong_types(void **state)
{
    (void)state;
    size_t count;
    content_error_t e =
        load_broken("{\"intents\": [\n"
                    "{\"name\": \"a\", \"examples\": \"hallo\"},\n"
                    "{\"name\": \"b\", \"examples\": " TWENTY_B "}]}\n",
                    &count);
    assert_int_equal(e.line, 2);
    assert_non_null(strstr(e.message, "needs an array of examples"));

    e = load_broken("{\"intents\": [\n"
                    "{\"name\": 7, \"examples\": " TWENTY "},\n"
                    "{\"name\": \"b\", \"examples\": " TWENTY_B "}]}\n",
                    &count);
    assert_int_equal(e.line, 2);
    assert_non_null(strstr(e.message, "valid \"name\""));
}

static void load_rejects_unknown_key(void **state)
{
    (void)state;
    size_t count;
    content_error_t e =
        load_broken("{\"intents\": [\n"
                    "{\"name\": \"a\", \"examples\": " TWENTY ",\n"
                    " \"voorbeelden\": []},\n"
                    "{\"name\": \"b\", \"examples\": " TWENTY_B "}]}\n",
                    &count);
    assert_int_equal(count, 1);
    assert_int_equal(e.line, 3);
    assert_non_null(strstr(e.message, "unknown key \"voorbeelden\""));
}

static void load_rejects_shared_example(void **state)
{
    (void)state;
    size_t count;
    content_error_t e = load_broken(
        "{\"intents\": [\n"
        "{\"name\": \"a\", \"examples\": " TWENTY "},\n"
        "{\"name\": \"b\", \"examples\": " TWENTY_B "},\n"
        "{\"name\": \"c\", \"examples\": [\"B1\",\"c2\",\"c3\",\"c4\","
        "\"c5\",\"c6\",\"c7\",\"c8\",\"c9\",\"c10\",\"c11\",\"c12\",\"c13\","
        "\"c14\",\"c15\",\"c16\",\"c17\",\"c18\",\"c19\",\"c20\"]}]}\n",
        &count);
    assert_int_equal(count, 1);
    assert_int_equal(e.line, 4);
    assert_non_null(strstr(e.message, "also an example of \"b\""));
}

/* A small classifier built without nlu_load, to compare the compiled
 * scoring of nlu_analyzer_score with nlu_classifier_predict on the full
 * feature list. */
typedef struct {
    nlu_lexicon_t *lexicon;
    nlu_analyzer_t *analyzer;
    nlu_classifier_t *classifier;
} small_model_t;

static const char *const small_examples[][2] = {
    {"hoeveel kost een bedrijfsbezoek", "cost"},
    {"wat kost een gastles voor ons", "cost"},
    {"is dat gratis of betalend", "cost"},
    {"hoeveel uren vraagt dat per maand", "cost"},
    {"welke initiatieven zijn er in Limburg", "find"},
    {"zoek een project voor het secundair", "find"},
    {"ik zoek iets rond techniek voor jongeren", "find"},
    {"toon mij de initiatieven voor 12 jarigen", "find"},
    {"hoe laat is het", "other"},
    {"wat voor weer wordt het morgen", "other"},
    {"ik zoek werk als elektricien", "other"},
    {"vertel een mop", "other"},
};

static int setup_small_model(void **state)
{
    size_t count = sizeof small_examples / sizeof *small_examples;
    small_model_t *small = calloc(1, sizeof *small);
    nlu_features_t examples[sizeof small_examples / sizeof *small_examples];
    int labels[sizeof small_examples / sizeof *small_examples];
    memset(examples, 0, sizeof examples);
    if (!small)
        return -1;
    small->lexicon = nlu_lexicon_new();
    small->analyzer = nlu_analyzer_new(small->lexicon);
    if (!small->lexicon || !small->analyzer)
        return -1;
    const char *words[] = {"bedrijfsbezoek", "bedrijf",  "bezoek",   "gastles",
                           "initiatieven",   "techniek", "jongeren", "weer"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        nlu_lexicon_add(small->lexicon, words[i]);
    for (size_t i = 0; i < count; i++) {
        const char *text = small_examples[i][0];
        const char *label = small_examples[i][1];
        labels[i] = strcmp(label, "cost") == 0   ? 0
                    : strcmp(label, "find") == 0 ? 1
                                                 : 2;
        if (nlu_features_extract(small->analyzer, text, strlen(text), NULL, 0,
                                 1, &examples[i]) < 0)
            return -1;
    }
    small->classifier = nlu_classifier_train(examples, labels, count, 3, 3);
    for (size_t i = 0; i < count; i++)
        nlu_features_free(&examples[i]);
    *state = small;
    if (!small->classifier)
        return -1;
    return nlu_analyzer_compile(small->analyzer, small->classifier);
}

static int teardown_small_model(void **state)
{
    small_model_t *small = *state;
    if (!small)
        return 0;
    nlu_classifier_free(small->classifier);
    nlu_analyzer_free(small->analyzer);
    nlu_lexicon_free(small->lexicon);
    free(small);
    return 0;
}

/* Known words, a typo, an unknown compound, a number, an entity and a
 * text without words. */
static void score_matches_feature_list(void **state)
{
    small_model_t *small = *state;
    static const char *const texts[] = {
        "hoeveel kost een gastles",
        "welke initiatieven zijn er",
        "hoeveel kost een gastlessen",
        "iniatieven voor techniek",
        "technologiebedrijfsbezoek",
        "12 uur per maand",
        "Zwitserland!",
        "vertel een mop over het weer",
        "...",
    };
    nlu_entity_t entity = {.kind = NLU_ENT_REGION};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        const char *text = texts[i];
        size_t entity_count = i % 2;
        double compiled[3] = {0}, listed[3] = {0};
        nlu_features_t features = {0};
        int words = nlu_features_extract(small->analyzer, text, strlen(text),
                                         &entity, entity_count, 0, &features);
        int scored = nlu_analyzer_score(small->analyzer, text, strlen(text),
                                        &entity, entity_count, compiled);
        assert_int_equal(scored, words);
        if (words > 0) {
            nlu_classifier_predict(small->classifier, &features, listed);
            for (size_t c = 0; c < 3; c++)
                assert_float_equal(compiled[c], listed[c], 1e-5);
        }
        nlu_features_free(&features);
    }
}

/* Learning a word after compiling makes the compiled sums stale, so
 * scoring must fail until the analyzer is compiled again. */
static void score_needs_recompile(void **state)
{
    small_model_t *small = *state;
    const char *text = "een volledig nieuw woord";
    double probs[3];
    nlu_features_t features = {0};
    assert_true(nlu_features_extract(small->analyzer, text, strlen(text), NULL,
                                     0, 1, &features) > 0);
    nlu_features_free(&features);
    assert_int_equal(
        nlu_analyzer_score(small->analyzer, text, strlen(text), NULL, 0, probs),
        -1);
    assert_int_equal(nlu_analyzer_compile(small->analyzer, small->classifier),
                     0);
    assert_int_equal(
        nlu_analyzer_score(small->analyzer, text, strlen(text), NULL, 0, probs),
        4);
}

int main(void)
{
    const struct CMUnitTest parse_tests[] = {
        cmocka_unit_test(parse_scores_sorted),
        cmocka_unit_test(parse_rule_decides),
        cmocka_unit_test(parse_without_rule),
        cmocka_unit_test(parse_empty_text),
        cmocka_unit_test(parse_long_text),
        cmocka_unit_test(parse_invalid_utf8),
        cmocka_unit_test(model_names_intents),
        cmocka_unit_test(parse_matches_reference),
        cmocka_unit_test(parse_unknown_twice),
    };
    const struct CMUnitTest load_tests[] = {
        cmocka_unit_test(load_twice),
        cmocka_unit_test(load_rejects_duplicate_name),
        cmocka_unit_test(load_rejects_few_examples),
        cmocka_unit_test(load_rejects_bad_pattern),
        cmocka_unit_test(load_rejects_wrong_types),
        cmocka_unit_test(load_rejects_unknown_key),
        cmocka_unit_test(load_rejects_shared_example),
        cmocka_unit_test(load_rejects_bad_calibration),
        cmocka_unit_test(calibration_file_sets_temperature),
    };
    const struct CMUnitTest classifier_tests[] = {
        cmocka_unit_test(score_matches_feature_list),
        cmocka_unit_test(score_needs_recompile),
    };
    int failed = cmocka_run_group_tests_name("nlu_parse", parse_tests,
                                             setup_model, teardown_model);
    failed += cmocka_run_group_tests_name("nlu_load", load_tests, NULL, NULL);
    failed +=
        cmocka_run_group_tests_name("nlu_analyzer_score", classifier_tests,
                                    setup_small_model, teardown_small_model);
    return failed ? 1 : 0;
}
