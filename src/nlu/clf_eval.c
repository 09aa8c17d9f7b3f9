#include "nlu/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_CONFUSED_PAIRS 8
#define OUT_OF_SCOPE "out_of_scope"

typedef struct {
    size_t true_positive;
    size_t false_positive;
    size_t false_negative;
} intent_counts_t;

typedef struct {
    size_t count;
    double score_sum;
    size_t correct;
} bin_t;

/* Summary figures derived from the lines. */
typedef struct {
    size_t correct;
    size_t rule_count;
    size_t rule_correct;
    size_t oos_support;
    size_t oos_found;
    size_t entity_lines;
    size_t entity_exact;
    size_t entities_expected;
    size_t entities_found;
    size_t entities_extracted;
    bin_t bins[NLU_EVAL_BINS];
} summary_t;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int intent_index(const nlu_model_t *model, const char *name)
{
    for (size_t i = 0; i < nlu_intent_count(model); i++)
        if (strcmp(nlu_intent_name(model, i), name) == 0)
            return (int)i;
    return -1;
}

/* Returns 1 when an extracted entity has the expected kind and value. */
static int entity_matches(const nlu_entity_t *entity, const char *kind,
                          const char *value)
{
    if (strcmp(nlu_entity_kind_name(entity->kind), kind) != 0)
        return 0;
    if (entity->value[0])
        return strcasecmp(entity->value, value) == 0;
    char *end;
    double number = strtod(value, &end);
    return end != value && *end == '\0' && fabs(number - entity->number) < 1e-6;
}

/* Compares the expected "kind=value;..." list with the extracted entities.
 * Returns -1 when an item has no '='. */
static int score_entities(const char *expected, const nlu_result_t *result,
                          nlu_eval_line_t *line)
{
    char list[1024];
    snprintf(list, sizeof list, "%s", expected);
    line->entities_checked = 1;
    line->entities_extracted = result->entity_count;
    char *save = NULL;
    for (char *item = strtok_r(list, ";", &save); item;
         item = strtok_r(NULL, ";", &save)) {
        while (*item == ' ')
            item++;
        if (!*item)
            continue;
        char *eq = strchr(item, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        line->entities_expected++;
        for (size_t i = 0; i < result->entity_count; i++)
            if (entity_matches(&result->entities[i], item, eq + 1)) {
                line->entities_found++;
                break;
            }
    }
    return 0;
}

static int grow_lines(nlu_eval_t *eval, size_t *capacity)
{
    if (eval->count < *capacity)
        return 0;
    size_t cap = *capacity ? *capacity * 2 : 256;
    nlu_eval_line_t *grown = realloc(eval->lines, cap * sizeof *grown);
    if (!grown)
        return -1;
    eval->lines = grown;
    *capacity = cap;
    return 0;
}

/* Parses one TSV line (modified in place) into a new scored line. */
static int eval_line(const nlu_model_t *model, char *text, size_t number,
                     const char *path, nlu_eval_t *eval, char *err, size_t size)
{
    char *label = strchr(text, '\t');
    if (!label) {
        snprintf(err, size,
                 "%s:%zu: missing tab; write the text, a tab and the intent",
                 path, number);
        return -1;
    }
    *label++ = '\0';
    char *expected = strchr(label, '\t');
    if (expected)
        *expected++ = '\0';
    int gold = intent_index(model, label);
    if (gold < 0) {
        snprintf(err, size,
                 "%s:%zu: unknown intent \"%s\"; use a name from intents/",
                 path, number, label);
        return -1;
    }

    nlu_eval_line_t *line = &eval->lines[eval->count];
    memset(line, 0, sizeof *line);
    line->gold = gold;
    line->predicted = -1;
    line->text = strdup(text);
    if (!line->text) {
        snprintf(err, size, "out of memory");
        return -1;
    }
    eval->count++;

    nlu_result_t result;
    double start = now_seconds();
    nlu_parse(model, text, &result);
    eval->parse_seconds += now_seconds() - start;
    if (result.intent_count > 0) {
        line->predicted = intent_index(model, result.intents[0].name);
        line->score = result.intents[0].score;
        line->rule_matched = result.rule_matched;
    }
    if (expected && score_entities(expected, &result, line)) {
        snprintf(err, size,
                 "%s:%zu: invalid entity list; write kind=value;kind=value",
                 path, number);
        return -1;
    }
    return 0;
}

int nlu_eval_run(const nlu_model_t *model, const char *path, nlu_eval_t *eval,
                 char *err, size_t size)
{
    memset(eval, 0, sizeof *eval);
    eval->intent_count = nlu_intent_count(model);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, size, "%s: cannot open the test file", path);
        return -1;
    }
    char *buffer = NULL;
    size_t buffer_size = 0, capacity = 0, number = 0;
    int rc = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&buffer, &buffer_size, f)) >= 0) {
        number++;
        while (len > 0 && (buffer[len - 1] == '\n' || buffer[len - 1] == '\r'))
            buffer[--len] = '\0';
        if (len == 0 || buffer[0] == '#')
            continue;
        if (grow_lines(eval, &capacity)) {
            snprintf(err, size, "out of memory");
            rc = -1;
            break;
        }
        rc = eval_line(model, buffer, number, path, eval, err, size);
    }
    free(buffer);
    fclose(f);
    if (rc == 0 && eval->count == 0) {
        snprintf(err, size, "%s: no labelled lines", path);
        rc = -1;
    }
    if (rc)
        return rc;

    size_t k = eval->intent_count;
    eval->confusion = calloc(k > 0 ? k * k : 1, sizeof *eval->confusion);
    if (!eval->confusion) {
        snprintf(err, size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < eval->count; i++) {
        const nlu_eval_line_t *line = &eval->lines[i];
        if (line->predicted < 0)
            eval->unanswered++;
        else
            eval->confusion[(size_t)line->gold * k + (size_t)line->predicted]++;
    }
    return 0;
}

void nlu_eval_free(nlu_eval_t *eval)
{
    if (!eval)
        return;
    for (size_t i = 0; i < eval->count; i++)
        free(eval->lines[i].text);
    free(eval->lines);
    free(eval->confusion);
    memset(eval, 0, sizeof *eval);
}

static void summarise(const nlu_eval_t *eval, const nlu_model_t *model,
                      summary_t *s)
{
    memset(s, 0, sizeof *s);
    int oos = intent_index(model, OUT_OF_SCOPE);
    for (size_t i = 0; i < eval->count; i++) {
        const nlu_eval_line_t *line = &eval->lines[i];
        int right = line->predicted == line->gold;
        s->correct += right;
        s->rule_count += line->rule_matched;
        s->rule_correct += line->rule_matched && right;
        if (line->gold == oos) {
            s->oos_support++;
            s->oos_found += right;
        }
        size_t bin = (size_t)(line->score * NLU_EVAL_BINS);
        if (bin >= NLU_EVAL_BINS)
            bin = NLU_EVAL_BINS - 1;
        s->bins[bin].count++;
        s->bins[bin].score_sum += line->score;
        s->bins[bin].correct += right;
        if (!line->entities_checked)
            continue;
        s->entity_lines++;
        s->entity_exact += line->entities_found == line->entities_expected &&
                           line->entities_extracted == line->entities_expected;
        s->entities_expected += line->entities_expected;
        s->entities_found += line->entities_found;
        s->entities_extracted += line->entities_extracted;
    }
}

static double ratio(size_t part, size_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

double nlu_eval_accuracy(const nlu_eval_t *eval)
{
    size_t correct = 0;
    for (size_t i = 0; i < eval->count; i++)
        correct += eval->lines[i].predicted == eval->lines[i].gold;
    return ratio(correct, eval->count);
}

double nlu_eval_ece(const nlu_eval_t *eval)
{
    bin_t bins[NLU_EVAL_BINS] = {{0}};
    for (size_t i = 0; i < eval->count; i++) {
        const nlu_eval_line_t *line = &eval->lines[i];
        size_t bin = (size_t)(line->score * NLU_EVAL_BINS);
        if (bin >= NLU_EVAL_BINS)
            bin = NLU_EVAL_BINS - 1;
        bins[bin].count++;
        bins[bin].score_sum += line->score;
        bins[bin].correct += line->predicted == line->gold;
    }
    double ece = 0;
    for (size_t b = 0; b < NLU_EVAL_BINS; b++) {
        if (!bins[b].count)
            continue;
        double confidence = bins[b].score_sum / (double)bins[b].count;
        double accuracy = ratio(bins[b].correct, bins[b].count);
        ece += ratio(bins[b].count, eval->count) * fabs(confidence - accuracy);
    }
    return ece;
}

static intent_counts_t counts_of(const nlu_eval_t *eval, size_t intent)
{
    size_t k = eval->intent_count;
    intent_counts_t counts = {0};
    counts.true_positive = eval->confusion[intent * k + intent];
    for (size_t other = 0; other < k; other++) {
        if (other == intent)
            continue;
        counts.false_positive += eval->confusion[other * k + intent];
        counts.false_negative += eval->confusion[intent * k + other];
    }
    for (size_t i = 0; i < eval->count; i++)
        if (eval->lines[i].gold == (int)intent && eval->lines[i].predicted < 0)
            counts.false_negative++;
    return counts;
}

static double f1(double precision, double recall)
{
    return precision + recall > 0
               ? 2 * precision * recall / (precision + recall)
               : 0.0;
}

typedef struct {
    size_t gold;
    size_t predicted;
    size_t count;
} pair_t;

/* Finds the most frequent off-diagonal cells, largest first. */
static size_t confused_pairs(const nlu_eval_t *eval, pair_t *pairs, size_t max)
{
    size_t k = eval->intent_count, count = 0;
    for (size_t g = 0; g < k; g++) {
        for (size_t p = 0; p < k; p++) {
            size_t n = eval->confusion[g * k + p];
            if (g == p || n == 0)
                continue;
            size_t at = count < max ? count++ : max;
            while (at > 0 && pairs[at - 1].count < n) {
                if (at < max)
                    pairs[at] = pairs[at - 1];
                at--;
            }
            if (at < max)
                pairs[at] = (pair_t){g, p, n};
        }
    }
    return count;
}

void nlu_eval_print(const nlu_eval_t *eval, const nlu_model_t *model, FILE *out)
{
    summary_t s;
    summarise(eval, model, &s);
    fprintf(out, "lines                        %zu\n", eval->count);
    fprintf(out, "accuracy                     %.3f (%zu/%zu)\n",
            ratio(s.correct, eval->count), s.correct, eval->count);
    fprintf(out, "expected calibration error   %.3f (%d bins)\n",
            nlu_eval_ece(eval), NLU_EVAL_BINS);
    fprintf(out, "out-of-scope recall          %.3f (%zu/%zu)\n",
            ratio(s.oos_found, s.oos_support), s.oos_found, s.oos_support);
    fprintf(out, "decided by a rule            %zu lines, %.3f right\n",
            s.rule_count, ratio(s.rule_correct, s.rule_count));
    fprintf(out,
            "entity accuracy              %.3f (%zu/%zu lines exact; "
            "recall %.3f, precision %.3f)\n",
            ratio(s.entity_exact, s.entity_lines), s.entity_exact,
            s.entity_lines, ratio(s.entities_found, s.entities_expected),
            ratio(s.entities_found, s.entities_extracted));

    fprintf(out, "\n%-22s %9s %7s %7s %8s\n", "intent", "precision", "recall",
            "f1", "support");
    for (size_t i = 0; i < eval->intent_count; i++) {
        intent_counts_t c = counts_of(eval, i);
        size_t support = c.true_positive + c.false_negative;
        double precision =
            ratio(c.true_positive, c.true_positive + c.false_positive);
        double recall = ratio(c.true_positive, support);
        fprintf(out, "%-22s %9.3f %7.3f %7.3f %8zu\n",
                nlu_intent_name(model, i), precision, recall,
                f1(precision, recall), support);
    }

    pair_t pairs[MAX_CONFUSED_PAIRS];
    size_t pair_count = confused_pairs(eval, pairs, MAX_CONFUSED_PAIRS);
    fprintf(out, "\nmost confused (expected -> predicted)\n");
    for (size_t i = 0; i < pair_count; i++)
        fprintf(out, "  %-22s -> %-22s %zu\n",
                nlu_intent_name(model, pairs[i].gold),
                nlu_intent_name(model, pairs[i].predicted), pairs[i].count);
    if (pair_count == 0)
        fprintf(out, "  none\n");

    fprintf(out, "\ncalibration (top score bin: lines, mean score, "
                 "accuracy)\n");
    for (size_t b = 0; b < NLU_EVAL_BINS; b++) {
        if (!s.bins[b].count)
            continue;
        fprintf(out, "  %.1f-%.1f %5zu %7.3f %7.3f\n",
                (double)b / NLU_EVAL_BINS, (double)(b + 1) / NLU_EVAL_BINS,
                s.bins[b].count, s.bins[b].score_sum / (double)s.bins[b].count,
                ratio(s.bins[b].correct, s.bins[b].count));
    }
}

json_t *nlu_eval_json(const nlu_eval_t *eval, const nlu_model_t *model)
{
    summary_t s;
    summarise(eval, model, &s);
    json_t *intents = json_object();
    for (size_t i = 0; i < eval->intent_count; i++) {
        intent_counts_t c = counts_of(eval, i);
        size_t support = c.true_positive + c.false_negative;
        double precision =
            ratio(c.true_positive, c.true_positive + c.false_positive);
        double recall = ratio(c.true_positive, support);
        json_object_set_new(intents, nlu_intent_name(model, i),
                            json_pack("{s:f, s:f, s:f, s:I}", "precision",
                                      precision, "recall", recall, "f1",
                                      f1(precision, recall), "support",
                                      (json_int_t)support));
    }

    pair_t pairs[MAX_CONFUSED_PAIRS];
    size_t pair_count = confused_pairs(eval, pairs, MAX_CONFUSED_PAIRS);
    json_t *confused = json_array();
    for (size_t i = 0; i < pair_count; i++)
        json_array_append_new(
            confused,
            json_pack("{s:s, s:s, s:I}", "expected",
                      nlu_intent_name(model, pairs[i].gold), "predicted",
                      nlu_intent_name(model, pairs[i].predicted), "count",
                      (json_int_t)pairs[i].count));

    return json_pack(
        "{s:I, s:f, s:f, s:f, s:{s:I, s:f}, s:{s:f, s:I, s:f, s:f}, s:o, "
        "s:o, s:f}",
        "lines", (json_int_t)eval->count, "accuracy",
        ratio(s.correct, eval->count), "ece", nlu_eval_ece(eval),
        "out_of_scope_recall", ratio(s.oos_found, s.oos_support), "rules",
        "lines", (json_int_t)s.rule_count, "accuracy",
        ratio(s.rule_correct, s.rule_count), "entities", "accuracy",
        ratio(s.entity_exact, s.entity_lines), "lines",
        (json_int_t)s.entity_lines, "recall",
        ratio(s.entities_found, s.entities_expected), "precision",
        ratio(s.entities_found, s.entities_extracted), "intents", intents,
        "confused", confused, "parse_seconds", eval->parse_seconds);
}
