/* The NLU model: intents read from intents/, language data from lang/, a
 * lexicon for compound splitting and typo correction, PCRE2 rules and the
 * calibrated classifier. Built in one call when content loads and read-only
 * afterwards. */
#include "nlu/nlu.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "nlu/classifier.h"
#include "nlu/clf_intents.h"
#include "nlu/entities.h"
#include "nlu/ent_lang.h"
#include "nlu/lexicon.h"
#include "nlu/rule_filter.h"
#include "nlu/text.h"

/* Folds used to calibrate the classifier on held-out examples. */
#define CALIBRATION_FOLDS 5

/* Messages labelled with their intent in the intents folder: when the file
 * is there, the classifier's temperature is fitted on them instead of on
 * the cross-validation. The examples are written to teach each intent's
 * range and are harder than real messages, so a temperature fitted on
 * their folds leaves the scores of real messages too low. */
#define CALIBRATION_FILE "calibration.tsv"

/* Texts up to this many bytes are folded into a stack buffer for the
 * rules, and longer ones into a heap buffer. */
#define STACK_FOLD_MAX 1024

/* Texts of up to this many tokens are tokenised once into a stack array
 * that entity extraction and the classifier share. Longer ones are
 * tokenised by each. */
#define SHARED_TOKENS 64

/* Stack bytes for the PCRE2 context and match data of a parse. */
#define RULE_ARENA_SIZE 1024

/* A rule's score is its precision on the training examples, smoothed
 * towards RULE_PRIOR as if RULE_PRIOR_WEIGHT more examples had been
 * matched: (correct + 0.95 * 10) / (matched + 10). A rule that matches
 * 20 examples of its own intent and none of another scores 0.983; one that
 * matches nothing scores 0.95. */
#define RULE_PRIOR 0.95
#define RULE_PRIOR_WEIGHT 10.0

/* Models with up to this many rules index them in word_rules and
 * solid_rules. With more, every filter is tested in turn. */
#define INDEXED_RULES_MAX 64

/* Buckets of word_rules: the low five bits of the first two bytes of a
 * word, which keep the letters apart. */
#define WORD_RULE_BUCKETS 1024

/* The lexicons of the model's corrector. */
enum { CORRECT_MODEL, CORRECT_WORDS, CORRECT_PLACES, CORRECT_LEXICONS };

typedef struct {
    size_t intent;
    pcre2_code *code;
    int jit; /* the pattern is compiled for pcre2_jit_match() */
    double score;
    rule_filter_t filter;
} rule_t;

struct nlu_model {
    char (*names)[NLU_NAME_MAX];
    size_t intent_count;
    rule_t *rules;
    size_t rule_count;
    /* Bit r of word_rules[word_bucket(c1, c2)] is set when rule r has a
     * filter that needs a word start (rule_filter_t.word_start) and a
     * needle that starts with bytes c1 c2, or with c1 alone. `indexed`
     * contains the bits of every indexed rule. Only set when there are no
     * more than INDEXED_RULES_MAX rules. */
    uint64_t word_rules[WORD_RULE_BUCKETS];
    /* The same for the rules whose filter looks only at the first byte
     * that is not whitespace, indexed by that byte and the next. */
    uint64_t solid_rules[WORD_RULE_BUCKETS];
    uint64_t indexed;
    nlu_lang_t *lang;
    nlu_lexicon_t *lexicon;
    /* Corrects against the lexicon, the language data's words and its
     * place names at once. */
    nlu_corrector_t *corrector;
    nlu_analyzer_t *analyzer;
    nlu_classifier_t *classifier;
};

static const char *const entity_kind_names[NLU_ENT_KIND_COUNT] = {
    [NLU_ENT_REGION] = "region", [NLU_ENT_LEVEL] = "level",
    [NLU_ENT_TIME] = "time",     [NLU_ENT_SIZE] = "size",
    [NLU_ENT_SECTOR] = "sector", [NLU_ENT_GOAL] = "goal",
    [NLU_ENT_NUMBER] = "number",
};

const char *nlu_entity_kind_name(nlu_entity_kind_t kind)
{
    if ((unsigned)kind >= NLU_ENT_KIND_COUNT)
        return "unknown";
    return entity_kind_names[kind];
}

static int add_token_to_lexicon(const nlu_token_t *token, void *arg)
{
    if (token->is_number)
        return 0;
    return nlu_lexicon_add(arg, token->folded) ? 1 : 0;
}

/* Builds the lexicon from every example word and the language data.
 * Returns 0, or -1 when out of memory. */
static int build_lexicon(nlu_model_t *model, const nlu_intent_set_t *set)
{
    model->lexicon = nlu_lexicon_new();
    if (!model->lexicon)
        return -1;
    for (size_t i = 0; i < set->count; i++)
        for (size_t j = 0; j < set->items[i].example_count; j++) {
            const char *text = set->items[i].examples[j];
            if (nlu_tokenize(text, strlen(text), add_token_to_lexicon,
                             model->lexicon))
                return -1;
        }
    if (nlu_lang_fill_lexicon(model->lang, model->lexicon))
        return -1;
    const nlu_lexicon_t *lexicons[CORRECT_LEXICONS] = {
        [CORRECT_MODEL] = model->lexicon,
        [CORRECT_WORDS] = model->lang->words,
        [CORRECT_PLACES] = model->lang->places};
    model->corrector = nlu_corrector_new(lexicons, CORRECT_LEXICONS);
    if (!model->corrector)
        return -1;
    ent_lang_use_corrector(model->lang, model->corrector, CORRECT_WORDS,
                           CORRECT_PLACES);
    return ent_lang_memoize(model->lang, model->lexicon);
}

/* Folds text into a new buffer, which the caller frees. Folding can turn
 * one invalid byte into two, so the buffer holds twice the input. */
static char *fold_copy(const char *text, size_t len)
{
    char *folded = malloc(2 * len + 1);
    if (folded)
        nlu_fold(text, len, folded, 2 * len + 1);
    return folded;
}

static int rule_matches(const rule_t *rule, const char *folded,
                        pcre2_match_data *match)
{
    return pcre2_match(rule->code, (PCRE2_SPTR)folded, strlen(folded), 0, 0,
                       match, NULL) >= 0;
}

static size_t word_bucket(unsigned char first, unsigned char second)
{
    return (size_t)(first & 31) << 5 | (second & 31);
}

/* Returns 1 when the filter looks only at the first byte of a text that
 * is not whitespace (see rule_filter_pass_text()). */
static int filter_solid(const rule_filter_t *filter)
{
    return filter->usable && filter->anchored && filter->skip_space &&
           !filter->space_first;
}

/* Indexes the rules whose filter needs a word start in
 * model->word_rules and those that look at the first byte that is not
 * whitespace in model->solid_rules, by the first two bytes of their
 * needles. */
static void index_rules(nlu_model_t *model)
{
    for (size_t r = 0;
         r < model->rule_count && model->rule_count <= INDEXED_RULES_MAX; r++) {
        const rule_filter_t *filter = &model->rules[r].filter;
        uint64_t *table = filter_solid(filter) ? model->solid_rules
                          : filter->usable && filter->word_start
                              ? model->word_rules
                              : NULL;
        if (!table)
            continue;
        model->indexed |= 1ULL << r;
        for (size_t k = 0; k < filter->needle_count; k++) {
            const rule_needle_t *needle = &filter->needles[k];
            unsigned char first = (unsigned char)needle->value;
            if ((needle->mask >> 8 & 0xFF) == 0xFF) {
                unsigned char second = (unsigned char)(needle->value >> 8);
                table[word_bucket(first, second)] |= 1ULL << r;
                continue;
            }
            for (unsigned second = 0; second < 32; second++)
                table[word_bucket(first, (unsigned char)second)] |= 1ULL << r;
        }
    }
}

/* Moves the compiled patterns into rules and scores each one by its
 * precision on the training examples. Returns 0 or -1. */
static int build_rules(nlu_model_t *model, nlu_intent_set_t *set)
{
    size_t count = 0;
    for (size_t i = 0; i < set->count; i++)
        count += set->items[i].pattern_count;
    model->rules = calloc(count ? count : 1, sizeof *model->rules);
    pcre2_match_data *match = pcre2_match_data_create(1, NULL);
    if (!model->rules || !match) {
        pcre2_match_data_free(match);
        return -1;
    }
    for (size_t i = 0; i < set->count; i++) {
        for (size_t j = 0; j < set->items[i].pattern_count; j++) {
            rule_t *rule = &model->rules[model->rule_count++];
            rule->intent = i;
            rule->code = set->items[i].patterns[j];
            set->items[i].patterns[j] = NULL;
            if (set->items[i].sources[j])
                rule_filter_build(set->items[i].sources[j], &rule->filter);
            free(set->items[i].sources[j]);
            set->items[i].sources[j] = NULL;
            /* Without JIT support PCRE2 interprets the pattern, which
             * gives the same matches more slowly. */
            rule->jit = pcre2_jit_compile(rule->code, PCRE2_JIT_COMPLETE) == 0;
        }
        set->items[i].pattern_count = 0;
    }

    double *matched = calloc(count ? count : 1, sizeof *matched);
    double *correct = calloc(count ? count : 1, sizeof *correct);
    int rc = matched && correct ? 0 : -1;
    for (size_t i = 0; i < set->count && rc == 0; i++) {
        for (size_t j = 0; j < set->items[i].example_count; j++) {
            const char *text = set->items[i].examples[j];
            char *folded = fold_copy(text, strlen(text));
            if (!folded) {
                rc = -1;
                break;
            }
            for (size_t r = 0; r < model->rule_count; r++) {
                if (!rule_matches(&model->rules[r], folded, match))
                    continue;
                matched[r]++;
                correct[r] += model->rules[r].intent == i;
            }
            free(folded);
        }
    }
    for (size_t r = 0; r < model->rule_count && rc == 0; r++)
        model->rules[r].score = (correct[r] + RULE_PRIOR * RULE_PRIOR_WEIGHT) /
                                (matched[r] + RULE_PRIOR_WEIGHT);
    index_rules(model);
    free(matched);
    free(correct);
    pcre2_match_data_free(match);
    return rc;
}

/* Extracts the features of every example and trains the classifier.
 * Returns 0 or -1. */
static int train(nlu_model_t *model, const nlu_intent_set_t *set)
{
    size_t count = 0;
    for (size_t i = 0; i < set->count; i++)
        count += set->items[i].example_count;
    nlu_features_t *examples = calloc(count, sizeof *examples);
    int *labels = calloc(count, sizeof *labels);
    int rc = -1;
    if (!examples || !labels)
        goto done;

    size_t at = 0;
    for (size_t i = 0; i < set->count; i++) {
        for (size_t j = 0; j < set->items[i].example_count; j++, at++) {
            const char *text = set->items[i].examples[j];
            nlu_entity_t entities[NLU_MAX_ENTITIES];
            size_t entity_count = nlu_extract_entities(
                model->lang, text, entities, NLU_MAX_ENTITIES);
            labels[at] = (int)i;
            if (nlu_features_extract(model->analyzer, text, strlen(text),
                                     entities, entity_count, 1,
                                     &examples[at]) < 0)
                goto done;
        }
    }
    model->classifier = nlu_classifier_train(examples, labels, count,
                                             set->count, CALIBRATION_FOLDS);
    if (model->classifier && nlu_analyzer_learn_lexicon(model->analyzer) == 0 &&
        nlu_analyzer_compile(model->analyzer, model->classifier) == 0)
        rc = 0;

done:
    for (size_t i = 0; examples && i < count; i++)
        nlu_features_free(&examples[i]);
    free(examples);
    free(labels);
    return rc;
}

/* Reads one line of the calibration file (modified in place) into
 * `*features` and `*label`. Returns 1 for a labelled line, 0 for a blank
 * or comment line, and -1 after adding an error to `errs`. */
static int calibration_line(nlu_model_t *model, const nlu_intent_set_t *set,
                            char *text, const char *path, int number,
                            nlu_features_t *features, int *label,
                            content_errors_t *errs)
{
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (len == 0 || text[0] == '#')
        return 0;
    char *name = strchr(text, '\t');
    if (!name || name == text) {
        content_errors_add(errs, path, number, 1,
                           "write the message, a tab and the intent name",
                           "missing message or tab");
        return -1;
    }
    *name++ = '\0';
    *label = -1;
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].name, name) == 0)
            *label = (int)i;
    if (*label < 0) {
        content_errors_add(errs, path, number, (int)(name - text) + 1,
                           "use the name of an intent in intents/*.json",
                           "unknown intent \"%s\"", name);
        return -1;
    }
    nlu_entity_t entities[NLU_MAX_ENTITIES];
    size_t entity_count =
        nlu_extract_entities(model->lang, text, entities, NLU_MAX_ENTITIES);
    if (nlu_features_extract(model->analyzer, text, strlen(text), entities,
                             entity_count, 0, features) < 0) {
        content_errors_add(errs, path, number, 1,
                           "free memory or shorten the file",
                           "out of memory while reading the line");
        return -1;
    }
    return 1;
}

/* Fits the classifier's temperature on CALIBRATION_FILE in `intents_dir`
 * when it exists. Returns the number of lines used (0 without the file),
 * or -1 after adding each error to `errs`. */
static long calibrate_on_file(nlu_model_t *model, const char *intents_dir,
                              const nlu_intent_set_t *set,
                              content_errors_t *errs)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", intents_dir, CALIBRATION_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    nlu_features_t *lines = NULL;
    int *labels = NULL;
    size_t count = 0, capacity = 0;
    char *buffer = NULL;
    size_t buffer_size = 0;
    int number = 0, failed = 0;
    while (getline(&buffer, &buffer_size, f) >= 0) {
        number++;
        if (count == capacity) {
            size_t cap = capacity ? capacity * 2 : 256;
            nlu_features_t *grown_lines =
                realloc(lines, cap * sizeof *grown_lines);
            if (grown_lines)
                lines = grown_lines;
            int *grown_labels =
                grown_lines ? realloc(labels, cap * sizeof *grown_labels)
                            : NULL;
            if (grown_labels)
                labels = grown_labels;
            if (!grown_lines || !grown_labels) {
                content_errors_add(errs, path, number, 1,
                                   "free memory or shorten the file",
                                   "out of memory while reading the file");
                failed = 1;
                break;
            }
            capacity = cap;
        }
        memset(&lines[count], 0, sizeof lines[count]);
        int rc = calibration_line(model, set, buffer, path, number,
                                  &lines[count], &labels[count], errs);
        if (rc > 0)
            count++;
        else if (rc < 0)
            failed = 1;
    }
    free(buffer);
    fclose(f);
    if (!failed && count == 0) {
        content_errors_add(errs, path, 0, 0,
                           "add lines of a message, a tab and an intent name, "
                           "or remove the file",
                           "no labelled lines");
        failed = 1;
    }
    if (!failed && nlu_classifier_fit_temperature(model->classifier, lines,
                                                  labels, count) != 0) {
        content_errors_add(errs, path, 0, 0, "free memory",
                           "out of memory while fitting the temperature");
        failed = 1;
    }
    for (size_t i = 0; i < count; i++)
        nlu_features_free(&lines[i]);
    free(lines);
    free(labels);
    return failed ? -1 : (long)count;
}

nlu_model_t *nlu_load(const char *intents_dir, const char *lang_dir,
                      content_errors_t *errs)
{
    nlu_intent_set_t set;
    nlu_model_t *model = NULL;
    if (nlu_intent_set_load(intents_dir, &set, errs))
        goto fail;
    model = calloc(1, sizeof *model);
    if (!model)
        goto out_of_memory;
    model->lang = nlu_lang_load(lang_dir, errs);
    if (!model->lang)
        goto fail;

    model->intent_count = set.count;
    model->names = calloc(set.count, sizeof *model->names);
    if (!model->names)
        goto out_of_memory;
    for (size_t i = 0; i < set.count; i++)
        memcpy(model->names[i], set.items[i].name, NLU_NAME_MAX);

    if (build_lexicon(model, &set))
        goto out_of_memory;
    model->analyzer = nlu_analyzer_new(model->lexicon);
    if (!model->analyzer)
        goto out_of_memory;
    nlu_analyzer_use_corrector(model->analyzer, model->corrector,
                               CORRECT_MODEL);
    if (build_rules(model, &set) || train(model, &set))
        goto out_of_memory;
    long calibrated = calibrate_on_file(model, intents_dir, &set, errs);
    if (calibrated < 0)
        goto fail;

    LOG_INFO("nlu",
             "model loaded: %zu intents, %zu rules, cross-validated "
             "accuracy %.3f, temperature %.3f (%s)",
             model->intent_count, model->rule_count,
             nlu_classifier_cv_accuracy(model->classifier),
             nlu_classifier_temperature(model->classifier),
             calibrated > 0 ? "fitted on " CALIBRATION_FILE
                            : "fitted on the cross-validation");
    nlu_intent_set_free(&set);
    return model;

out_of_memory:
    content_errors_add(errs, intents_dir, 0, 0,
                       "free memory or reduce the number of examples",
                       "out of memory while building the intent model");
fail:
    nlu_intent_set_free(&set);
    nlu_free(model);
    return NULL;
}

void nlu_free(nlu_model_t *model)
{
    if (!model)
        return;
    nlu_classifier_free(model->classifier);
    nlu_analyzer_free(model->analyzer);
    nlu_lexicon_free(model->lexicon);
    nlu_lang_free(model->lang);
    nlu_corrector_free(model->corrector);
    for (size_t i = 0; i < model->rule_count; i++)
        pcre2_code_free(model->rules[i].code);
    free(model->rules);
    free(model->names);
    free(model);
}

/* A bump allocator over a stack buffer, so that the PCRE2 match data of a
 * parse needs no heap. Requests that do not fit go to malloc. */
typedef struct {
    _Alignas(max_align_t) unsigned char bytes[RULE_ARENA_SIZE];
    size_t used;
} rule_arena_t;

static void *arena_malloc(PCRE2_SIZE size, void *data)
{
    rule_arena_t *arena = data;
    size_t align = _Alignof(max_align_t);
    size_t rounded = (size + align - 1) / align * align;
    if (rounded < size || rounded > sizeof arena->bytes - arena->used)
        return malloc(size);
    void *block = arena->bytes + arena->used;
    arena->used += rounded;
    return block;
}

static void arena_free(void *block, void *data)
{
    rule_arena_t *arena = data;
    unsigned char *bytes = block;
    if (bytes < arena->bytes || bytes >= arena->bytes + sizeof arena->bytes)
        free(block);
}

/* Word starts of a folded ASCII text past this many are not listed, and
 * the filters that use them then scan every byte. */
#define RULE_STARTS_MAX 128

static int is_pcre_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static int is_pcre_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r'); /* \s without PCRE2_UCP */
}

/* Lists in `text` what the rule filters need of a folded ASCII text: the
 * first byte that is not whitespace and the offsets where a word starts
 * (into `starts`, RULE_STARTS_MAX of them at most). `tokens`, when not
 * NULL, are the tokens of nlu_tokenize() of the text: runs of ASCII
 * letters and digits, so a word starts where a token does unless "_"
 * comes right before it. */
static void prepare_rule_text(const char *folded, size_t len,
                              const nlu_token_t *tokens, size_t token_count,
                              uint32_t *starts, rule_text_t *text)
{
    text->text = folded;
    text->len = len;
    text->solid = 0;
    while (text->solid < len &&
           is_pcre_space((unsigned char)folded[text->solid]))
        text->solid++;
    text->starts = starts;
    text->start_count = 0;
    if (tokens && token_count <= RULE_STARTS_MAX) {
        for (size_t k = 0; k < token_count; k++) {
            size_t at = tokens[k].start;
            if (at == 0 || folded[at - 1] != '_')
                starts[text->start_count++] = (uint32_t)at;
        }
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)folded[i];
        if (c == '_' || !is_pcre_word(c) ||
            (i > 0 && is_pcre_word((unsigned char)folded[i - 1])))
            continue;
        if (text->start_count == RULE_STARTS_MAX) {
            text->starts = NULL;
            break;
        }
        starts[text->start_count++] = (uint32_t)i;
    }
}

/* Returns the rules of model->indexed whose filter passes the prepared
 * text, a NUL-terminated string. At each word start, and at the first
 * byte that is not whitespace, only the rules with a needle that may
 * start with the next two bytes are tested. */
static uint64_t pass_indexed(const nlu_model_t *model, const rule_text_t *text)
{
    uint64_t passed = 0;
    for (size_t i = 0; i < text->start_count; i++) {
        size_t at = text->starts[i];
        const unsigned char *word = (const unsigned char *)text->text + at;
        uint64_t rules =
            model->word_rules[word_bucket(word[0], word[1])] & ~passed;
        for (; rules; rules &= rules - 1) {
            int r = __builtin_ctzll(rules);
            if (rule_filter_pass_at(&model->rules[r].filter, text, at))
                passed |= 1ULL << r;
        }
    }
    if (text->solid == text->len)
        return passed;
    const unsigned char *solid =
        (const unsigned char *)text->text + text->solid;
    uint64_t rules = model->solid_rules[word_bucket(solid[0], solid[1])];
    for (; rules; rules &= rules - 1) {
        int r = __builtin_ctzll(rules);
        if (rule_filter_pass_at(&model->rules[r].filter, text, text->solid))
            passed |= 1ULL << r;
    }
    return passed;
}

/* Returns the index of the best matching rule for the folded text, or -1
 * when none matches. With `filtered` set, a rule runs only when its
 * filter passes, which applies to ASCII text only: outside ASCII,
 * caseless matching relates other characters to ASCII letters (the
 * Kelvin sign to "k"). `tokens` are those of the text or NULL, as for
 * prepare_rule_text(). The PCRE2 match data is made only when a rule
 * runs. */
static long match_folded(const nlu_model_t *model, const char *folded,
                         size_t len, int ascii, int filtered,
                         const nlu_token_t *tokens, size_t token_count)
{
    filtered = filtered && ascii;
    uint32_t starts[RULE_STARTS_MAX];
    rule_text_t text;
    uint64_t indexed = 0, passed = 0;
    if (filtered) {
        prepare_rule_text(folded, len, tokens, token_count, starts, &text);
        if (text.starts) {
            indexed = model->indexed;
            passed = pass_indexed(model, &text);
        }
    }
    /* ASCII is valid UTF-8, so PCRE2 need not check it. */
    uint32_t options = ascii ? PCRE2_NO_UTF_CHECK : 0;

    rule_arena_t arena;
    arena.used = 0;
    pcre2_general_context *context = NULL;
    pcre2_match_data *match = NULL;
    long best = -1;
    for (size_t r = 0; r < model->rule_count; r++) {
        const rule_t *rule = &model->rules[r];
        if (best >= 0 && rule->score <= model->rules[best].score)
            continue;
        if (r < INDEXED_RULES_MAX && (indexed >> r & 1)) {
            if (!(passed >> r & 1))
                continue;
        } else if (filtered && !rule_filter_pass_text(&rule->filter, &text)) {
            continue;
        }
        if (!match) {
            context =
                pcre2_general_context_create(arena_malloc, arena_free, &arena);
            match = context ? pcre2_match_data_create(1, context) : NULL;
            if (!match)
                break;
        }
        /* pcre2_jit_match() skips the checks of pcre2_match(), which
         * ASCII text passes, and gives the same result. */
        int rc = ascii && rule->jit
                     ? pcre2_jit_match(rule->code, (PCRE2_SPTR)folded, len, 0,
                                       0, match, NULL)
                     : pcre2_match(rule->code, (PCRE2_SPTR)folded, len, 0,
                                   options, match, NULL);
        if (rc >= 0)
            best = (long)r;
    }
    pcre2_match_data_free(match);
    pcre2_general_context_free(context);
    return best;
}

/* Returns the index of the best matching rule, or -1 when none matches.
 * With `filtered` 0 every rule runs, even when its filter rejects the
 * text. `tokens`, when not NULL, are the tokens of nlu_tokenize() of the
 * text. */
static long match_rules(const nlu_model_t *model, const char *text, size_t len,
                        int filtered, const nlu_token_t *tokens,
                        size_t token_count)
{
    if (model->rule_count == 0)
        return -1;
    char stack_folded[2 * STACK_FOLD_MAX + 1];
    const unsigned char *s = (const unsigned char *)text;
    size_t ascii = 0;
    if (len <= STACK_FOLD_MAX) {
        /* ASCII folds byte for byte to lower case, eight bytes a step
         * while none has its high bit set: a byte gets bit 0x20 when it
         * is at least 'A' and not above 'Z'. */
        for (uint64_t word; ascii + 8 <= len; ascii += 8) {
            memcpy(&word, s + ascii, 8);
            if (word & 0x8080808080808080ULL)
                break;
            uint64_t from_a = word + 0x3F3F3F3F3F3F3F3FULL; /* 0x80 - 'A' */
            uint64_t past_z = word + 0x2525252525252525ULL; /* 0x80 - '[' */
            word |= (from_a & ~past_z & 0x8080808080808080ULL) >> 2;
            memcpy(stack_folded + ascii, &word, 8);
        }
        for (; ascii < len && s[ascii] < 0x80; ascii++)
            stack_folded[ascii] =
                (char)(s[ascii] >= 'A' && s[ascii] <= 'Z' ? s[ascii] + 32
                                                          : s[ascii]);
        stack_folded[ascii] = '\0';
        if (ascii == len)
            return match_folded(model, stack_folded, len, 1, filtered, tokens,
                                token_count);
    }
    char *folded = len <= STACK_FOLD_MAX ? stack_folded : fold_copy(text, len);
    if (!folded)
        return -1;
    if (folded == stack_folded)
        nlu_fold(text, len, stack_folded, sizeof stack_folded);
    size_t folded_len = strlen(folded);
    int is_ascii = 1;
    for (size_t i = 0; i < folded_len && is_ascii; i++)
        is_ascii = (unsigned char)folded[i] < 0x80;
    long best =
        match_folded(model, folded, folded_len, is_ascii, filtered, NULL, 0);
    if (folded != stack_folded)
        free(folded);
    return best;
}

/* Appends intent `index` with `score` to the result. */
static void add_intent(const nlu_model_t *model, nlu_result_t *out,
                       size_t index, double score)
{
    nlu_intent_score_t *slot = &out->intents[out->intent_count++];
    memcpy(slot->name, model->names[index], NLU_NAME_MAX);
    slot->score = score < 0 ? 0 : score > 1 ? 1 : score;
}

/* Fills the result with a rule's intent (when rule >= 0) and then the
 * classifier's best other intents. A rule's intent takes the rule score;
 * the others share what is left in proportion to their probabilities. */
static void fill_intents(const nlu_model_t *model, long rule, double *probs,
                         nlu_result_t *out)
{
    double scale = 1.0;
    if (rule >= 0) {
        const rule_t *decided = &model->rules[rule];
        double rest = 1.0 - probs[decided->intent];
        scale = rest > 1e-12 ? (1.0 - decided->score) / rest : 0.0;
        add_intent(model, out, decided->intent, decided->score);
        out->rule_matched = 1;
        probs[decided->intent] = -1.0;
    }
    /* The best classes in one pass, kept sorted; a tie goes to the class
     * listed first, and a class marked -1 above is left out. */
    size_t best[NLU_MAX_INTENTS];
    size_t count = 0, room = NLU_MAX_INTENTS - out->intent_count, c = 0;
    for (; c < model->intent_count && count < room; c++) {
        if (probs[c] < 0)
            continue;
        size_t at = count++;
        while (at > 0 && probs[c] > probs[best[at - 1]]) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = c;
    }
    /* Once the list is full, a class must beat its last one. */
    double last = count > 0 ? probs[best[count - 1]] : 0;
    for (; count > 0 && c < model->intent_count; c++) {
        if (probs[c] < 0 || probs[c] <= last)
            continue;
        size_t at = count - 1;
        while (at > 0 && probs[c] > probs[best[at - 1]]) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = c;
        last = probs[best[count - 1]];
    }
    for (size_t i = 0; i < count; i++)
        add_intent(model, out, best[i], probs[best[i]] * scale);
}

/* Fills the intents of `out` for text[0, len), with the tokens of
 * nlu_tokenize() in `tokens` when it is not NULL. */
static void classify(const nlu_model_t *model, const char *text, size_t len,
                     const nlu_token_t *tokens, size_t token_count,
                     nlu_result_t *out)
{
    double stack_probs[64];
    double *probs = model->intent_count <= 64
                        ? stack_probs
                        : malloc(model->intent_count * sizeof *probs);
    if (!probs)
        return;
    int words =
        tokens
            ? nlu_analyzer_score_tokens(model->analyzer, tokens, token_count,
                                        out->entities, out->entity_count, probs)
            : nlu_analyzer_score(model->analyzer, text, len, out->entities,
                                 out->entity_count, probs);
    if (words > 0)
        fill_intents(model,
                     match_rules(model, text, len, 1, tokens, token_count),
                     probs, out);
    if (probs != stack_probs)
        free(probs);
}

void nlu_classify(const nlu_model_t *model, const char *text, nlu_result_t *out)
{
    out->intent_count = 0;
    out->rule_matched = 0;
    if (!model || !text || !text[0])
        return;
    size_t len = strlen(text);
    nlu_token_t tokens[SHARED_TOKENS];
    size_t count = nlu_tokenize_array(text, len, tokens, SHARED_TOKENS);
    if (count > SHARED_TOKENS)
        classify(model, text, len, NULL, 0, out);
    else
        classify(model, text, len, tokens, count, out);
}

/* Tokenises once and hands the tokens to entity extraction and the
 * classifier. A text with more than SHARED_TOKENS tokens is tokenised by
 * each of them instead. */
/* Counts the words of a message and those that are new to the model: of 5
 * characters or more with a letter, not in its lexicon, with no
 * correction into it and no split into known parts ("codefever"). Only
 * short messages are counted, for the dialogue's test of an unknown
 * name. */
#define COUNT_WORDS_MAX 4
#define LETTERS "abcdefghijklmnopqrstuvwxyz"
/* Shorter words ("hmm", "euh") are not taken for names. */
#define NAME_LETTERS_MIN 5

static void count_words(const nlu_model_t *model, const nlu_token_t *tokens,
                        size_t count, nlu_result_t *out)
{
    for (size_t i = 0; i < count; i++)
        out->word_count += !tokens[i].is_number;
    if (out->word_count > COUNT_WORDS_MAX)
        return;
    for (size_t i = 0; i < count; i++) {
        const char *folded = tokens[i].folded;
        if (tokens[i].is_number || strlen(folded) < NAME_LETTERS_MIN ||
            !strpbrk(folded, LETTERS) ||
            nlu_lexicon_has(model->lexicon, folded))
            continue;
        uint32_t found[CORRECT_LEXICONS];
        nlu_corrector_correct(model->corrector, folded, found);
        char parts[4][NLU_PART_MAX];
        if (found[CORRECT_MODEL] == NLU_NO_CORRECTION &&
            nlu_split_compound(model->lexicon, folded, parts, 4) == 0)
            out->unknown_words++;
    }
}

void nlu_parse(const nlu_model_t *model, const char *text, nlu_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (!model || !text || !text[0])
        return;
    size_t len = strlen(text);
    nlu_token_t tokens[SHARED_TOKENS];
    size_t count = nlu_tokenize_array(text, len, tokens, SHARED_TOKENS);
    if (count > SHARED_TOKENS) {
        out->entity_count = nlu_extract_entities(
            model->lang, text, out->entities, NLU_MAX_ENTITIES);
        classify(model, text, len, NULL, 0, out);
        return;
    }
    out->entity_count = ent_extract_tokens(
        model->lang, text, len, tokens, count, out->entities, NLU_MAX_ENTITIES);
    classify(model, text, len, tokens, count, out);
    count_words(model, tokens, count, out);
}

void nlu_parse_reference(const nlu_model_t *model, const nlu_lang_t *lang,
                         const char *text, nlu_result_t *out)
{
    memset(out, 0, sizeof *out);
    if (!model || !text || !text[0])
        return;
    size_t len = strlen(text);
    out->entity_count = nlu_extract_entities(lang ? lang : model->lang, text,
                                             out->entities, NLU_MAX_ENTITIES);
    nlu_features_t features = {0};
    double *probs = malloc(model->intent_count * sizeof *probs);
    int words =
        probs ? nlu_features_extract(model->analyzer, text, len, out->entities,
                                     out->entity_count, 0, &features)
              : -1;
    if (words > 0) {
        nlu_classifier_predict(model->classifier, &features, probs);
        fill_intents(model, match_rules(model, text, len, 0, NULL, 0), probs,
                     out);
    }
    nlu_features_free(&features);
    free(probs);
}

const nlu_lang_t *nlu_model_lang(const nlu_model_t *model)
{
    return model->lang;
}

size_t nlu_intent_count(const nlu_model_t *model)
{
    return model ? model->intent_count : 0;
}

const char *nlu_intent_name(const nlu_model_t *model, size_t index)
{
    if (!model || index >= model->intent_count)
        return NULL;
    return model->names[index];
}

int nlu_has_intent(const nlu_model_t *model, const char *name)
{
    for (size_t i = 0; name && i < nlu_intent_count(model); i++)
        if (strcmp(model->names[i], name) == 0)
            return 1;
    return 0;
}
