/* The statistical intent classifier behind nlu_parse: feature extraction
 * (stems, compound parts, typo-corrected words, character n-grams, entity
 * kinds) and a multinomial logistic regression whose scores are calibrated
 * by temperature scaling on a cross-validation split. Private to src/nlu/. */
#ifndef STEMDESK_NLU_CLASSIFIER_H
#define STEMDESK_NLU_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "nlu/entities.h"
#include "nlu/lexicon.h"
#include "nlu/text.h"

/* One sparse feature: a 64-bit hash of its name and its weight. */
typedef struct {
    uint64_t hash;
    float value;
} nlu_feature_t;

/* A growable list of features in text order, scaled to unit length by
 * nlu_features_extract(). A hash may occur more than once. */
typedef struct {
    nlu_feature_t *items;
    size_t count;
    size_t capacity;
} nlu_features_t;

/* Frees the items of a feature list; accepts a zeroed list. */
void nlu_features_free(nlu_features_t *features);

/* Word analyses (stem and compound parts) computed when the model loads,
 * so that parsing known words needs no stemmer. */
typedef struct nlu_analyzer nlu_analyzer_t;

/* Creates an analyzer that corrects and splits words with `lexicon`, which
 * stays owned by the caller and must outlive it. Returns NULL when out of
 * memory. */
nlu_analyzer_t *nlu_analyzer_new(const nlu_lexicon_t *lexicon);
void nlu_analyzer_free(nlu_analyzer_t *analyzer);

/* Makes nlu_analyzer_score() correct typos with `corrector`, whose lexicon
 * `index` is the analyzer's lexicon, instead of with that lexicon alone;
 * the results are the same. The corrector stays owned by the caller and
 * must outlive the analyzer. */
void nlu_analyzer_use_corrector(nlu_analyzer_t *analyzer,
                                const nlu_corrector_t *corrector, size_t index);

/* Extracts the features of one utterance and of the entities found in it
 * into `out`, which is cleared first and freed by the caller. When `learn`
 * is non-zero
 * the analyses of new words are stored in the analyzer, which must then not
 * be shared between threads; with learn == 0 the analyzer is only read.
 * Returns the number of words and numbers in the text, or -1 when out of
 * memory. */
int nlu_features_extract(nlu_analyzer_t *analyzer, const char *text, size_t len,
                         const nlu_entity_t *entities, size_t entity_count,
                         int learn, nlu_features_t *out);

/* Stores the analysis (stem, compound parts) of every word of the
 * lexicon that the analyzer lacks, so that after nlu_analyzer_compile()
 * each of them, and each typo corrected into one, is scored from compiled
 * sums. Drops the compiled sums. Returns 0, or -1 when out of memory. */
int nlu_analyzer_learn_lexicon(nlu_analyzer_t *analyzer);

typedef struct nlu_classifier nlu_classifier_t;

/* Stores, for every word the analyzer has learnt, the sum of the weight
 * rows of its own features (word, stem, compound parts, n-grams) and the
 * sum of their squared values. It stores the same sums over the stem and
 * part stems alone, for typos corrected into the word. Then
 * nlu_analyzer_score() handles such a word with one lookup. Keeps a
 * pointer to `classifier`, which must outlive the analyzer. Learning a new
 * word afterwards drops the compiled sums. Allocates the sums, which
 * nlu_analyzer_free() frees. Returns 0, or -1 when out of memory. */
int nlu_analyzer_compile(nlu_analyzer_t *analyzer,
                         const nlu_classifier_t *classifier);

/* Writes the calibrated probabilities of one utterance into `probs`, as
 * nlu_classifier_predict() would on the features nlu_features_extract()
 * returns, without building the feature list. Only reads the analyzer, so
 * threads may share it. Returns the number of words and numbers, or -1
 * when the analyzer was not compiled or memory ran out. */
int nlu_analyzer_score(nlu_analyzer_t *analyzer, const char *text, size_t len,
                       const nlu_entity_t *entities, size_t entity_count,
                       double *probs);

/* Does what nlu_analyzer_score() does on the tokens nlu_tokenize() gives
 * for the text, already split into `tokens`. */
int nlu_analyzer_score_tokens(nlu_analyzer_t *analyzer,
                              const nlu_token_t *tokens, size_t token_count,
                              const nlu_entity_t *entities, size_t entity_count,
                              double *probs);

/* Trains a classifier on `count` feature lists with labels in
 * [0, class_count) and calibrates it with `folds`-fold cross-validation.
 * Keeps no pointer to its arguments. Returns NULL when out of memory or
 * when fewer than two classes are given. */
nlu_classifier_t *nlu_classifier_train(const nlu_features_t *examples,
                                       const int *labels, size_t count,
                                       size_t class_count, size_t folds);
void nlu_classifier_free(nlu_classifier_t *classifier);

/* Writes calibrated probabilities of every class into `probs` (class_count
 * values that sum to 1). */
void nlu_classifier_predict(const nlu_classifier_t *classifier,
                            const nlu_features_t *features, double *probs);

size_t nlu_classifier_class_count(const nlu_classifier_t *classifier);

/* Writes to rows[i] what nlu_classifier_row() returns for hashes[i], for
 * `count` hashes. Table slots and rows are fetched ahead of their use, so
 * this costs less than one call per hash when they are not in cache. */
void nlu_classifier_rows(const nlu_classifier_t *classifier,
                         const uint64_t *hashes, size_t count,
                         const float **rows);

/* Returns the class_count weights of a feature hash, or NULL when the
 * model never saw it. */
const float *nlu_classifier_row(const nlu_classifier_t *classifier,
                                uint64_t hash);

/* Writes calibrated probabilities into `probs` from weighted feature sums
 * (`sums`, class_count values) multiplied by `scale`, the inverse length of
 * the feature vector. */
void nlu_classifier_probabilities(const nlu_classifier_t *classifier,
                                  const float *sums, double scale,
                                  double *probs);

/* Sets the softmax temperature to the one that fits `count` labelled
 * feature lists best (least negative log-likelihood), in place of the one
 * from cross-validation. Returns 0, or -1 when out of memory. */
int nlu_classifier_fit_temperature(nlu_classifier_t *classifier,
                                   const nlu_features_t *lines,
                                   const int *labels, size_t count);

/* Returns the softmax temperature chosen by calibration. */
double nlu_classifier_temperature(const nlu_classifier_t *classifier);

/* Fills the intents of `out` (intents, intent_count, rule_matched) for
 * `text`, using the entities already in `out` as features: nlu_parse()
 * without entity extraction, for measuring the two apart. */
void nlu_classify(const nlu_model_t *model, const char *text,
                  nlu_result_t *out);

/* Parses as nlu_parse() does by the slow path, for tests. Entities come
 * from `lang`, a copy loaded apart without stored results (NULL for the
 * model's own). Every feature is listed and scored one by one with
 * nlu_classifier_predict(), and every rule runs without its filter. The
 * scores match nlu_parse() to about 1e-6, because the same float weights
 * are summed in another order. */
void nlu_parse_reference(const nlu_model_t *model, const nlu_lang_t *lang,
                         const char *text, nlu_result_t *out);

/* Returns the language data of the model, which the model owns. */
const nlu_lang_t *nlu_model_lang(const nlu_model_t *model);

/* Returns the top-1 accuracy of the cross-validation, 0 when it did not
 * run. */
double nlu_classifier_cv_accuracy(const nlu_classifier_t *classifier);

#endif
