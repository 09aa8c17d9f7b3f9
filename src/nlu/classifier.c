/* Multinomial logistic regression over hashed sparse features, trained by
 * stochastic gradient descent, with its softmax temperature fitted on the
 * out-of-fold scores of a k-fold cross-validation, or afterwards on
 * labelled lines kept apart from training
 * (nlu_classifier_fit_temperature). The temperature is the value that
 * minimises the negative log-likelihood of those scores, so the
 * probabilities of the final model (trained on every example) are close to
 * how often it is right. Training is deterministic: the same examples give
 * the same model. */
#include "nlu/classifier.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPOCHS 40
#define LEARNING_RATE 1.0
#define LEARNING_DECAY 0.2 /* rate at epoch e: LEARNING_RATE/(1+e*decay) */
#define L2_PENALTY 3e-4    /* applied to the weights an example touches */
#define SHUFFLE_SEED 0x5eedf00dULL

/* A slot of the feature table; key 0 marks a free slot. */
typedef struct {
    uint64_t key;
    uint32_t id;
} slot_t;

struct nlu_classifier {
    size_t class_count;
    size_t feature_count;
    slot_t *table;
    size_t slots; /* a power of two, at least twice feature_count */
    /* Two bits of one word per feature key, about 8 bits per feature. Most
     * lookups of features the model never saw end in this small array
     * instead of in the table. NULL until training is done. */
    uint64_t *filter;
    size_t filter_words; /* a power of two */
    float *weights;      /* feature_count x class_count */
    float *bias;         /* class_count */
    double temperature;  /* logits are divided by it before the softmax */
    double cv_accuracy;  /* top-1 accuracy of the cross-validation */
};

/* Training examples as feature ids, in compressed sparse rows. */
typedef struct {
    size_t *row_start; /* count + 1 offsets into ids and values */
    uint32_t *ids;
    float *values;
    const int *labels;
    size_t count;
} matrix_t;

/* A zero hash is the free-slot mark, so it is stored as 1. */
static uint64_t table_key(uint64_t hash)
{
    return hash ? hash : 1;
}

/* Returns the id of a feature hash, or -1 when the model never saw it. */
static long find_feature(const nlu_classifier_t *classifier, uint64_t hash)
{
    uint64_t key = table_key(hash);
    size_t mask = classifier->slots - 1;
    for (size_t i = (size_t)key & mask;; i = (i + 1) & mask) {
        if (classifier->table[i].key == 0)
            return -1;
        if (classifier->table[i].key == key)
            return (long)classifier->table[i].id;
    }
}

/* Adds every feature of the examples to the table. Returns 0 or -1. */
static int build_table(nlu_classifier_t *classifier,
                       const nlu_features_t *examples, size_t count)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += examples[i].count;
    classifier->slots = 64;
    while (classifier->slots < total * 2)
        classifier->slots *= 2;
    classifier->table = calloc(classifier->slots, sizeof *classifier->table);
    if (!classifier->table)
        return -1;

    size_t mask = classifier->slots - 1;
    for (size_t e = 0; e < count; e++) {
        for (size_t f = 0; f < examples[e].count; f++) {
            uint64_t key = table_key(examples[e].items[f].hash);
            size_t i = (size_t)key & mask;
            while (classifier->table[i].key != 0 &&
                   classifier->table[i].key != key)
                i = (i + 1) & mask;
            if (classifier->table[i].key == 0) {
                classifier->table[i].key = key;
                classifier->table[i].id = (uint32_t)classifier->feature_count++;
            }
        }
    }
    return 0;
}

/* Rebuilds the feature table at twice the number of distinct features.
 * build_table() sizes it for every feature occurrence, which leaves it
 * mostly empty and spreads parse-time lookups over more cache lines.
 * Returns 0, or -1 when out of memory (the old table stays). */
static int compact_table(nlu_classifier_t *classifier)
{
    size_t slots = 64;
    while (slots < classifier->feature_count * 2)
        slots *= 2;
    if (slots >= classifier->slots)
        return 0;
    slot_t *table = calloc(slots, sizeof *table);
    if (!table)
        return -1;
    size_t mask = slots - 1;
    for (size_t s = 0; s < classifier->slots; s++) {
        slot_t slot = classifier->table[s];
        if (slot.key == 0)
            continue;
        size_t i = (size_t)slot.key & mask;
        while (table[i].key != 0)
            i = (i + 1) & mask;
        table[i] = slot;
    }
    free(classifier->table);
    classifier->table = table;
    classifier->slots = slots;
    return 0;
}

/* Returns the filter word and the two bits of a feature key. The table
 * index takes the low bits of the key, so the filter takes the high
 * ones. */
static size_t filter_word(const nlu_classifier_t *classifier, uint64_t key)
{
    return (size_t)(key >> 40) & (classifier->filter_words - 1);
}

static uint64_t filter_bits(uint64_t key)
{
    return 1ULL << ((key >> 28) & 63) | 1ULL << ((key >> 34) & 63);
}

/* Returns 0 when the filter shows that the model never saw the feature,
 * and 1 when it may have. */
static int filter_passes(const nlu_classifier_t *classifier, uint64_t hash)
{
    if (!classifier->filter)
        return 1;
    uint64_t key = table_key(hash), bits = filter_bits(key);
    return (classifier->filter[filter_word(classifier, key)] & bits) == bits;
}

/* Builds the filter from the table. Returns 0, or -1 when out of memory
 * (lookups then go to the table alone). */
static int build_filter(nlu_classifier_t *classifier)
{
    size_t words = 1;
    while (words * 64 < classifier->feature_count * 8)
        words *= 2;
    classifier->filter = calloc(words, sizeof *classifier->filter);
    if (!classifier->filter)
        return -1;
    classifier->filter_words = words;
    for (size_t s = 0; s < classifier->slots; s++) {
        uint64_t key = classifier->table[s].key;
        if (key != 0)
            classifier->filter[filter_word(classifier, key)] |=
                filter_bits(key);
    }
    return 0;
}

static void matrix_free(matrix_t *matrix)
{
    free(matrix->row_start);
    free(matrix->ids);
    free(matrix->values);
}

/* Converts the examples to feature ids. Returns 0 or -1. */
static int build_matrix(const nlu_classifier_t *classifier,
                        const nlu_features_t *examples, const int *labels,
                        size_t count, matrix_t *matrix)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += examples[i].count;
    matrix->row_start = malloc((count + 1) * sizeof *matrix->row_start);
    matrix->ids = malloc((total + 1) * sizeof *matrix->ids);
    matrix->values = malloc((total + 1) * sizeof *matrix->values);
    matrix->labels = labels;
    matrix->count = count;
    if (!matrix->row_start || !matrix->ids || !matrix->values)
        return -1;

    size_t at = 0;
    for (size_t e = 0; e < count; e++) {
        matrix->row_start[e] = at;
        for (size_t f = 0; f < examples[e].count; f++) {
            long id = find_feature(classifier, examples[e].items[f].hash);
            matrix->ids[at] = (uint32_t)id;
            matrix->values[at] = examples[e].items[f].value;
            at++;
        }
    }
    matrix->row_start[count] = at;
    return 0;
}

/* Turns logits into probabilities in place, after dividing by t. */
static void softmax(double *values, size_t n, double t)
{
    double max = values[0] / t;
    for (size_t c = 1; c < n; c++)
        if (values[c] / t > max)
            max = values[c] / t;
    double sum = 0;
    for (size_t c = 0; c < n; c++) {
        values[c] = exp(values[c] / t - max);
        sum += values[c];
    }
    for (size_t c = 0; c < n; c++)
        values[c] /= sum;
}

static void row_logits(const nlu_classifier_t *classifier,
                       const matrix_t *matrix, size_t row, double *logits)
{
    size_t k = classifier->class_count;
    for (size_t c = 0; c < k; c++)
        logits[c] = classifier->bias[c];
    for (size_t j = matrix->row_start[row]; j < matrix->row_start[row + 1];
         j++) {
        const float *w = classifier->weights + (size_t)matrix->ids[j] * k;
        double x = matrix->values[j];
        for (size_t c = 0; c < k; c++)
            logits[c] += w[c] * x;
    }
}

static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Fits weights and bias on the rows listed in `rows`, starting from zero.
 * `scratch` holds class_count doubles. */
static void fit(nlu_classifier_t *classifier, const matrix_t *matrix,
                size_t *rows, size_t row_count, double *scratch)
{
    size_t k = classifier->class_count;
    memset(classifier->weights, 0,
           classifier->feature_count * k * sizeof *classifier->weights);
    memset(classifier->bias, 0, k * sizeof *classifier->bias);
    uint64_t seed = SHUFFLE_SEED;

    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        for (size_t i = row_count; i > 1; i--) {
            size_t j = (size_t)(next_random(&seed) % i);
            size_t swap = rows[i - 1];
            rows[i - 1] = rows[j];
            rows[j] = swap;
        }
        double rate = LEARNING_RATE / (1.0 + epoch * LEARNING_DECAY);

        for (size_t r = 0; r < row_count; r++) {
            size_t row = rows[r];
            row_logits(classifier, matrix, row, scratch);
            softmax(scratch, k, 1.0);
            scratch[matrix->labels[row]] -= 1.0; /* now the gradient */

            for (size_t j = matrix->row_start[row];
                 j < matrix->row_start[row + 1]; j++) {
                float *w = classifier->weights + (size_t)matrix->ids[j] * k;
                double x = matrix->values[j];
                for (size_t c = 0; c < k; c++)
                    w[c] -=
                        (float)(rate * (scratch[c] * x + L2_PENALTY * w[c]));
            }
            for (size_t c = 0; c < k; c++)
                classifier->bias[c] -= (float)(rate * scratch[c]);
        }
    }
}

/* Mean negative log-likelihood of the labels at temperature t. */
static double calibration_loss(const double *logits, const int *labels,
                               size_t count, size_t k, double t,
                               double *scratch)
{
    double loss = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(scratch, logits + i * k, k * sizeof *scratch);
        softmax(scratch, k, t);
        loss -= log(scratch[labels[i]] > 1e-12 ? scratch[labels[i]] : 1e-12);
    }
    return loss / (double)count;
}

/* Golden-section search of the temperature on a log scale, 0.05 to 20. */
static double fit_temperature(const double *logits, const int *labels,
                              size_t count, size_t k, double *scratch)
{
    const double ratio = 0.6180339887498949;
    double lo = log(0.05), hi = log(20.0);
    double a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
    double fa = calibration_loss(logits, labels, count, k, exp(a), scratch);
    double fb = calibration_loss(logits, labels, count, k, exp(b), scratch);
    for (int step = 0; step < 40; step++) {
        if (fa < fb) {
            hi = b;
            b = a;
            fb = fa;
            a = hi - ratio * (hi - lo);
            fa = calibration_loss(logits, labels, count, k, exp(a), scratch);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + ratio * (hi - lo);
            fb = calibration_loss(logits, labels, count, k, exp(b), scratch);
        }
    }
    return exp((lo + hi) / 2);
}

/* Assigns each example a fold so that every class is spread evenly. */
static void assign_folds(const int *labels, size_t count, size_t class_count,
                         size_t folds, size_t *fold_of)
{
    for (size_t c = 0; c < class_count; c++) {
        size_t seen = 0;
        for (size_t i = 0; i < count; i++)
            if ((size_t)labels[i] == c)
                fold_of[i] = seen++ % folds;
    }
}

/* Runs the cross-validation and sets the temperature. Returns 0 or -1. */
static int calibrate(nlu_classifier_t *classifier, const matrix_t *matrix,
                     size_t folds, double *scratch)
{
    size_t count = matrix->count, k = classifier->class_count;
    size_t *fold_of = malloc(count * sizeof *fold_of);
    size_t *rows = malloc(count * sizeof *rows);
    double *logits = malloc(count * k * sizeof *logits);
    int rc = -1;
    if (!fold_of || !rows || !logits)
        goto done;

    assign_folds(matrix->labels, count, k, folds, fold_of);
    for (size_t fold = 0; fold < folds; fold++) {
        size_t row_count = 0;
        for (size_t i = 0; i < count; i++)
            if (fold_of[i] != fold)
                rows[row_count++] = i;
        fit(classifier, matrix, rows, row_count, scratch);
        for (size_t i = 0; i < count; i++)
            if (fold_of[i] == fold)
                row_logits(classifier, matrix, i, logits + i * k);
    }
    classifier->temperature =
        fit_temperature(logits, matrix->labels, count, k, scratch);
    size_t correct = 0;
    for (size_t i = 0; i < count; i++) {
        size_t best = 0;
        for (size_t c = 1; c < k; c++)
            if (logits[i * k + c] > logits[i * k + best])
                best = c;
        correct += best == (size_t)matrix->labels[i];
    }
    classifier->cv_accuracy = (double)correct / (double)count;
    rc = 0;

done:
    free(logits);
    free(rows);
    free(fold_of);
    return rc;
}

nlu_classifier_t *nlu_classifier_train(const nlu_features_t *examples,
                                       const int *labels, size_t count,
                                       size_t class_count, size_t folds)
{
    if (class_count < 2 || count == 0)
        return NULL;
    nlu_classifier_t *classifier = calloc(1, sizeof *classifier);
    matrix_t matrix = {0};
    double *scratch = malloc(class_count * sizeof *scratch);
    size_t *rows = malloc(count * sizeof *rows);
    if (!classifier || !scratch || !rows)
        goto fail;
    classifier->class_count = class_count;
    classifier->temperature = 1.0;
    if (build_table(classifier, examples, count) ||
        build_matrix(classifier, examples, labels, count, &matrix))
        goto fail;
    classifier->weights = malloc((classifier->feature_count + 1) * class_count *
                                 sizeof *classifier->weights);
    classifier->bias = malloc(class_count * sizeof *classifier->bias);
    if (!classifier->weights || !classifier->bias)
        goto fail;

    if (folds >= 2 && count >= folds &&
        calibrate(classifier, &matrix, folds, scratch))
        goto fail;
    for (size_t i = 0; i < count; i++)
        rows[i] = i;
    fit(classifier, &matrix, rows, count, scratch);
    if (compact_table(classifier) || build_filter(classifier))
        goto fail;

    matrix_free(&matrix);
    free(rows);
    free(scratch);
    return classifier;

fail:
    matrix_free(&matrix);
    free(rows);
    free(scratch);
    nlu_classifier_free(classifier);
    return NULL;
}

void nlu_classifier_free(nlu_classifier_t *classifier)
{
    if (!classifier)
        return;
    free(classifier->table);
    free(classifier->filter);
    free(classifier->weights);
    free(classifier->bias);
    free(classifier);
}

size_t nlu_classifier_class_count(const nlu_classifier_t *classifier)
{
    return classifier->class_count;
}

const float *nlu_classifier_row(const nlu_classifier_t *classifier,
                                uint64_t hash)
{
    if (!filter_passes(classifier, hash))
        return NULL;
    long id = find_feature(classifier, hash);
    if (id < 0)
        return NULL;
    return classifier->weights + (size_t)id * classifier->class_count;
}

/* Sets values[i] to e^(values[i] - shift) for `count` values of at most
 * `shift`, the least of which minus `shift` is `least`. The exponent
 * x = values[i] - shift is at most 0; e^x is found to
 * within a few units in the last place of exp(): x = n ln 2 + r with
 * |r| <= ln 2 / 2, e^r by its Taylor series to r^13 (the rest is below
 * 1e-17 of it), times 2^n put together in the exponent bits: the low
 * twelve bits of t, whose mantissa ends in n, plus the exponent bias. The
 * loop has no calls and no branches, so the compiler can vectorise it.
 * Exponents below -708, whose 2^n would not fit, go to exp() instead. */
static void exp_shifted(double *values, size_t count, double shift,
                        double least)
{
    if (!(least >= -708.0)) {
        for (size_t i = 0; i < count; i++)
            values[i] = exp(values[i] - shift);
        return;
    }
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double round = 6755399441055744.0; /* 1.5 * 2^52 */
    for (size_t i = 0; i < count; i++) {
        double x = values[i] - shift;
        double t = x * log2e + round;
        double n = t - round;
        double r = (x - n * ln2_hi) - n * ln2_lo;
        double p = 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        uint64_t bits;
        memcpy(&bits, &t, sizeof bits);
        bits = (bits + 1023) << 52;
        double scale;
        memcpy(&scale, &bits, sizeof scale);
        values[i] = p * scale;
    }
}

void nlu_classifier_rows(const nlu_classifier_t *classifier,
                         const uint64_t *hashes, size_t count,
                         const float **rows)
{
    size_t mask = classifier->slots - 1;
    for (size_t i = 0; i < count; i++)
        if (filter_passes(classifier, hashes[i]))
            __builtin_prefetch(&classifier->table[table_key(hashes[i]) & mask]);
    size_t row_bytes = classifier->class_count * sizeof(float);
    for (size_t i = 0; i < count; i++) {
        rows[i] = nlu_classifier_row(classifier, hashes[i]);
        if (!rows[i])
            continue;
        /* A row may span two cache lines. */
        __builtin_prefetch(rows[i]);
        __builtin_prefetch((const char *)rows[i] + row_bytes - 1);
    }
}

void nlu_classifier_probabilities(const nlu_classifier_t *classifier,
                                  const float *sums, double scale,
                                  double *probs)
{
    /* softmax() at the temperature, with one division per call instead
     * of two per class. */
    size_t k = classifier->class_count;
    double inverse = 1.0 / classifier->temperature;
    for (size_t c = 0; c < k; c++)
        probs[c] = (classifier->bias[c] + sums[c] * scale) * inverse;
    /* Subtracting the largest logit keeps the order, so the least
     * exponent is the least logit minus the largest. A NaN makes every
     * probability NaN either way. */
    double max = -HUGE_VAL, min = HUGE_VAL;
    for (size_t c = 0; c < k; c++) {
        max = probs[c] > max ? probs[c] : max;
        min = probs[c] < min ? probs[c] : min;
    }
    exp_shifted(probs, k, max, min - max);
    double sum = 0;
    for (size_t c = 0; c < k; c++)
        sum += probs[c];
    double norm = 1.0 / sum;
    for (size_t c = 0; c < k; c++)
        probs[c] *= norm;
}

void nlu_classifier_predict(const nlu_classifier_t *classifier,
                            const nlu_features_t *features, double *probs)
{
    size_t k = classifier->class_count;
    for (size_t c = 0; c < k; c++)
        probs[c] = classifier->bias[c];
    for (size_t f = 0; f < features->count; f++) {
        const float *w =
            nlu_classifier_row(classifier, features->items[f].hash);
        if (!w)
            continue;
        double x = features->items[f].value;
        for (size_t c = 0; c < k; c++)
            probs[c] += w[c] * x;
    }
    softmax(probs, k, classifier->temperature);
}

int nlu_classifier_fit_temperature(nlu_classifier_t *classifier,
                                   const nlu_features_t *lines,
                                   const int *labels, size_t count)
{
    size_t k = classifier->class_count;
    double *logits = malloc((count ? count : 1) * k * sizeof *logits);
    double *scratch = malloc(k * sizeof *scratch);
    if (!logits || !scratch) {
        free(logits);
        free(scratch);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        double *row = logits + i * k;
        for (size_t c = 0; c < k; c++)
            row[c] = classifier->bias[c];
        for (size_t f = 0; f < lines[i].count; f++) {
            const float *w =
                nlu_classifier_row(classifier, lines[i].items[f].hash);
            if (!w)
                continue;
            double x = lines[i].items[f].value;
            for (size_t c = 0; c < k; c++)
                row[c] += w[c] * x;
        }
    }
    if (count > 0)
        classifier->temperature =
            fit_temperature(logits, labels, count, k, scratch);
    free(logits);
    free(scratch);
    return 0;
}

double nlu_classifier_temperature(const nlu_classifier_t *classifier)
{
    return classifier->temperature;
}

double nlu_classifier_cv_accuracy(const nlu_classifier_t *classifier)
{
    return classifier->cv_accuracy;
}
