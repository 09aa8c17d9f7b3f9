/* Entity extraction: tokens are matched against the phrase table of the
 * language data, patterns combine numbers with units (time, staff, age),
 * and the longest non-overlapping candidates win. */
#include "nlu/entities.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/ent_lang.h"
#include "nlu/text.h"

/* NOTE: text past the first MAX_TOKENS tokens is not searched. A chat
 * message is far shorter. */
#define MAX_TOKENS 256
#define MAX_CANDIDATES 512
/* Messages of up to this many tokens are extracted without allocating. */
#define SMALL_TOKENS 48
/* Each token starts at most this many candidates, one per try_ function. */
#define CANDIDATES_PER_TOKEN 6
#define POSTCODE_MIN 1000
#define POSTCODE_MAX 9999
/* Words outside the stored results whose results are kept for reuse. */
#define UNKNOWN_MEMO_SLOTS 4096
/* ent_memo_t.place of a result whose place correction is looked up when
 * first needed. */
#define PLACE_LATER (ENT_NO_ID - 1)
/* Four-digit numbers in this range after "in" are read as years. */
#define YEAR_MIN 1990
#define YEAR_MAX 2039

/* How tokens are compared with phrases. */
typedef enum {
    FORM_EXACT, /* the folded token */
    FORM_WORD,  /* its correction against the word lexicon, if any */
    FORM_PLACE  /* its correction against the place names, if any */
} form_t;

typedef struct {
    size_t start;
    size_t end;
    char norm[64];
    size_t len;     /* bytes of norm */
    uint64_t hash;  /* nlu_word_hash() of norm */
    uint32_t id;    /* vocabulary id of norm, or ENT_NO_ID */
    uint32_t word;  /* id of the correction into a known word, or ENT_NO_ID */
    uint32_t place; /* id of the correction into a place name token, or
                       ENT_NO_ID; looked up when first needed */
    int place_done; /* 1 once place is set */
    const ent_memo_t *memo; /* stored results for norm, or NULL */
    ent_memo_t own;         /* results of a word outside them */
    int own_memo;           /* memo points to own (set again after moves) */
    int word_flags;         /* ENT_WORD_* of norm, 0 when unknown */
    /* No candidate can start at the token, and no phrase either as
     * written, with typos corrected or with place names corrected. */
    int inert;
    int is_num;
    int is_digits;
    double num;
    int capital;
    int sentence_start;
    char sep_before; /* punctuation right before the token, or 0 */
    char sep_after;  /* punctuation right after the token, or 0 */
} tok_t;

/* A matched phrase: its length in tokens and its entry. */
typedef struct {
    size_t len;
    const ent_entry_t *entry;
} match_t;

/* The phrases that start at one token, looked up once per message: per
 * role the longest one as written or else with typos corrected into known
 * words, except for places, which keep the exact match here and the
 * match with corrected place names apart. A length of 0 means none. */
typedef struct {
    unsigned char done;
    unsigned char place_done;
    unsigned char any; /* 1 when some role has a phrase here */
    unsigned char len[ENT_ROLE_COUNT];
    unsigned char place_len;
    const ent_entry_t *entry[ENT_ROLE_COUNT];
    const ent_entry_t *place_entry;
} memo_t;

typedef struct {
    size_t first; /* token range [first, last) */
    size_t last;
    nlu_entity_kind_t kind;
    const char *value; /* owned by the language data, "" when none */
    double number;
    int priority;
    int vague; /* a time budget without a number: "weinig tijd" */
} cand_t;

typedef struct {
    const nlu_lang_t *lang;
    const char *text;
    size_t text_len;
    const nlu_token_t *given; /* tokens of nlu_tokenize(), or NULL */
    size_t given_count;
    tok_t *toks;
    size_t count;
    size_t token_cap;
    tok_t *heap_toks; /* toks once a message outgrows SMALL_TOKENS */
    cand_t *cands;
    size_t cand_count;
    size_t cand_cap;
    memo_t *memo;
    int use_unknown; /* 1: keep results of unknown words in lang->unknown */
} ext_t;

/* An amount: a number, a number phrase or an article, maybe a range. */
typedef struct {
    size_t end;
    double from;
    double to;
    int article; /* "een" alone: 1, but only before a unit */
    int phrase;  /* "een paar": an estimate */
} amount_t;

size_t ent_tokens(const char *text, size_t len, ent_token_t *out, size_t max);

/* Collects raw tokens for ent_tokens. */
typedef struct {
    ent_token_t *out;
    size_t max;
    size_t count;
} collect_t;

static void push_token(collect_t *c, size_t start, size_t end,
                       const char *folded, size_t folded_len, int digits)
{
    if (c->count == c->max)
        return;
    ent_token_t *t = &c->out[c->count++];
    t->start = start;
    t->end = end;
    if (folded_len >= sizeof t->folded)
        folded_len = sizeof t->folded - 1;
    memcpy(t->folded, folded, folded_len);
    t->folded[folded_len] = '\0';
    t->is_digits = digits;
}

/* Calls `push` for a token, split into a leading run of digits and a
 * letter suffix ("4u", "2de"). The digits have the same bytes in the
 * folded form and in the text. */
#define SPLIT_DIGITS(token, push, arg)                                         \
    do {                                                                       \
        const char *f_ = (token)->folded;                                      \
        size_t digits_ = 0;                                                    \
        while (isdigit((unsigned char)f_[digits_]))                            \
            digits_++;                                                         \
        if (digits_ == 0 || f_[digits_] == '\0') {                             \
            push(arg, (token)->start, (token)->end, f_, strlen(f_),            \
                 digits_ > 0);                                                 \
        } else {                                                               \
            push(arg, (token)->start, (token)->start + digits_, f_, digits_,   \
                 1);                                                           \
            push(arg, (token)->start + digits_, (token)->end, f_ + digits_,    \
                 strlen(f_ + digits_), 0);                                     \
        }                                                                      \
    } while (0)

static int collect(const nlu_token_t *token, void *arg)
{
    collect_t *c = arg;
    SPLIT_DIGITS(token, push_token, c);
    return c->count == c->max;
}

size_t ent_tokens(const char *text, size_t len, ent_token_t *out, size_t max)
{
    collect_t c = {out, max, 0};
    nlu_tokenize(text, len, collect, &c);
    return c.count;
}

/* ---- token preparation --------------------------------------------------- */

/* isspace() and isupper() of the C locale, which the program runs in (it
 * never calls setlocale()), without the call that finds the table. */
static int is_c_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static int is_c_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static int is_upper_at(const char *text, size_t at)
{
    unsigned char c = (unsigned char)text[at];
    if (is_c_upper(c))
        return 1;
    /* Latin-1 capitals A-grave to Thorn, encoded as C3 80 to C3 9E. */
    return c == 0xC3 && (unsigned char)text[at + 1] >= 0x80 &&
           (unsigned char)text[at + 1] <= 0x9E &&
           (unsigned char)text[at + 1] != 0x97;
}

/* Returns the punctuation character nearest to [from, to), or 0 when only
 * spaces or nothing lies between. */
static char separator(const char *text, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (!is_c_space((unsigned char)text[i]))
            return text[i];
    return 0;
}

static int starts_sentence(const char *text, size_t start)
{
    while (start > 0) {
        unsigned char c = (unsigned char)text[start - 1];
        if (c == '.' || c == '!' || c == '?' || c == ':' || c == '\n')
            return 1;
        if (!is_c_space(c) && c != '"' && c != '\'' && c != '(' && c != '-')
            return 0;
        start--;
    }
    return 1;
}

/* Merges "2,5" into 2.5 and "1.000" into 1000. */
static void merge_decimals(ext_t *x)
{
    size_t out = 0;
    for (size_t i = 0; i < x->count; i++) {
        tok_t *t = &x->toks[i];
        if (out > 0) {
            tok_t *prev = &x->toks[out - 1];
            size_t gap = t->start - prev->end;
            char sep = x->text[prev->end];
            if (prev->is_digits && t->is_digits && gap == 1 &&
                (sep == ',' || sep == '.')) {
                size_t digits = strlen(t->norm);
                double frac = strtod(t->norm, NULL);
                if (sep == '.' && digits == 3)
                    prev->num = prev->num * 1000 + frac;
                else
                    prev->num += frac / pow(10, (double)digits);
                prev->end = t->end;
                prev->is_digits = sep == '.' && digits == 3;
                continue;
            }
        }
        if (out != i)
            x->toks[out] = *t;
        out++;
    }
    x->count = out;
}

/* Replaces a token that has an alias by the alias. Returns 1 when it
 * did. */
static int apply_alias(const nlu_lang_t *lang, char *norm, size_t size)
{
    int replaced = 0;
    for (size_t i = 0; i < lang->token_alias_count; i++)
        if (norm[0] == lang->token_alias[i][0][0] &&
            strcmp(norm, lang->token_alias[i][0]) == 0) {
            snprintf(norm, size, "%s", lang->token_alias[i][1]);
            replaced = 1;
        }
    return replaced;
}

/* Returns 1 and sets *value when a folded token that is not in the
 * vocabulary is a number word ("vijfentwintig"). */
static int number_word(const nlu_lang_t *lang, const char *norm, double *value)
{
    return ent_maybe_number_word(lang, norm) &&
           ent_number_word(lang, norm, value);
}

static uint32_t correction(const nlu_lang_t *lang, const nlu_lexicon_t *lexicon,
                           const char *norm);
static const ent_entry_t *compound_synonym(const nlu_lang_t *lang,
                                           const char *norm);

/* Points the token's memo at the results of its word, from
 * lang->unknown or computed and kept there: what ent_lang_memoize()
 * stores, except that the compound is only looked for in words that
 * try_synonym() would split, and the place correction waits until it is
 * needed. */
static void memo_unknown(const ext_t *x, tok_t *t)
{
    const nlu_lang_t *lang = x->lang;
    size_t len = t->len;
    uint64_t hash = t->hash;
    t->memo = &t->own;
    t->own_memo = 1;
    if (nlu_word_memo_get(lang->unknown, t->norm, len, hash, &t->own))
        return;
    memset(&t->own, 0, sizeof t->own);
    t->own.word = correction(lang, lang->words, t->norm);
    t->own.place = PLACE_LATER;
    t->own.compound = len >= 6 ? compound_synonym(lang, t->norm) : NULL;
    t->own.is_num = number_word(lang, t->norm, &t->own.num);
    nlu_word_memo_put(lang->unknown, t->norm, len, hash, &t->own);
}

/* Appends one token, reading its word id, flags and number value; hash
 * is nlu_word_hash() of folded[0, folded_len). When the message outgrows
 * the token array on the stack, moves the tokens to the heap, once. */
static void push_tok(ext_t *x, size_t start, size_t end, const char *folded,
                     size_t folded_len, int digits, uint64_t hash)
{
    if (x->count == x->token_cap) {
        if (x->heap_toks || x->token_cap == MAX_TOKENS)
            return;
        x->heap_toks = malloc(MAX_TOKENS * sizeof *x->heap_toks);
        if (!x->heap_toks)
            return;
        memcpy(x->heap_toks, x->toks, x->count * sizeof *x->toks);
        x->toks = x->heap_toks;
        x->token_cap = MAX_TOKENS;
    }
    const nlu_lang_t *lang = x->lang;
    tok_t *t = &x->toks[x->count++];
    t->start = start;
    t->end = end;
    if (folded_len >= sizeof t->norm) {
        folded_len = sizeof t->norm - 1;
        hash = nlu_word_hash(folded, folded_len);
    }
    memcpy(t->norm, folded, folded_len);
    t->norm[folded_len] = '\0';
    t->len = folded_len;
    t->hash = hash;
    if (lang->token_alias_count > 0 &&
        apply_alias(lang, t->norm, sizeof t->norm)) {
        t->len = strlen(t->norm);
        t->hash = nlu_word_hash(t->norm, t->len);
    }
    t->id = ent_word_find_hashed(lang, t->norm, t->len, t->hash);
    t->word = ENT_NO_ID;
    t->place = ENT_NO_ID;
    t->place_done = 0;
    t->memo = NULL;
    t->own_memo = 0;
    t->word_flags = t->id == ENT_NO_ID ? 0 : lang->vocab[t->id].flags;
    t->is_digits = digits;
    t->is_num = 0;
    t->num = 0;
    if (!digits && !(t->word_flags & (ENT_WORD_KNOWN | ENT_WORD_PLACE))) {
        t->memo = ent_memo_find_hashed(lang, t->norm, t->len, t->hash);
        if (!t->memo && x->use_unknown && lang->unknown)
            memo_unknown(x, t);
    }
    if (t->is_digits) {
        t->num = strtod(t->norm, NULL);
        t->is_num = 1;
    } else if (t->id != ENT_NO_ID) {
        t->is_num = (t->word_flags & ENT_WORD_NUMBER) != 0;
        t->num = t->is_num ? lang->vocab[t->id].number : 0;
    } else if (t->memo) {
        t->is_num = t->memo->is_num;
        t->num = t->memo->num;
    } else {
        t->is_num = number_word(lang, t->norm, &t->num);
    }
    t->capital = is_upper_at(x->text, t->start);
    t->sentence_start = starts_sentence(x->text, t->start);
}

/* Pushes a token as SPLIT_DIGITS() does, with the hash of the token
 * when it is not split. */
static int collect_tok(const nlu_token_t *token, void *arg)
{
    ext_t *x = arg;
    const char *f = token->folded;
    size_t digits = 0;
    while (isdigit((unsigned char)f[digits]))
        digits++;
    if (digits == 0 || f[digits] == '\0') {
        push_tok(x, token->start, token->end, f, token->len, digits > 0,
                 token->hash);
    } else {
        size_t rest = token->len - digits;
        push_tok(x, token->start, token->start + digits, f, digits, 1,
                 nlu_word_hash(f, digits));
        push_tok(x, token->start + digits, token->end, f + digits, rest, 0,
                 nlu_word_hash(f + digits, rest));
    }
    return x->count == MAX_TOKENS;
}

static int is_ascii(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] >= 0x80)
            return 0;
    return 1;
}

static int is_ascii_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* Tokenizes as nlu_tokenize does, with a shortcut for ASCII text, where
 * words are runs of letters and digits and folding is lower-casing. */
static void tokenize(ext_t *x)
{
    if (x->given) {
        for (size_t i = 0; i < x->given_count; i++)
            if (collect_tok(&x->given[i], x))
                return;
        return;
    }
    if (!is_ascii(x->text, x->text_len)) {
        nlu_tokenize(x->text, x->text_len, collect_tok, x);
        return;
    }
    const char *text = x->text;
    size_t i = 0;
    while (i < x->text_len) {
        if (!is_ascii_word(text[i])) {
            i++;
            continue;
        }
        nlu_token_t token = {.start = i};
        size_t used = 0;
        for (; i < x->text_len && is_ascii_word(text[i]); i++)
            if (used + 1 < sizeof token.folded)
                token.folded[used++] = (char)tolower((unsigned char)text[i]);
        token.folded[used] = '\0';
        token.end = i;
        token.len = (uint32_t)used;
        token.hash = nlu_word_hash(token.folded, used);
        if (collect_tok(&token, x))
            return;
    }
}

/* Returns the vocabulary id of the nearest known word of `lexicon`, or
 * ENT_NO_ID. */
static uint32_t correction(const nlu_lang_t *lang, const nlu_lexicon_t *lexicon,
                           const char *norm)
{
    char out[64];
    if (lang->corrector) {
        uint32_t found[NLU_CORRECT_MAX];
        nlu_corrector_correct(lang->corrector, norm, found);
        uint32_t word = found[lexicon == lang->places ? lang->corrector_places
                                                      : lang->corrector_words];
        if (word == NLU_NO_CORRECTION)
            return ENT_NO_ID;
        const char *corrected = nlu_lexicon_word(lexicon, word);
        nlu_copy_text(out, sizeof out, corrected,
                      strnlen(corrected, sizeof out));
    } else if (!nlu_lexicon_correct(lexicon, norm, out, sizeof out)) {
        return ENT_NO_ID;
    }
    return ent_word_find(lang, out, strlen(out));
}

void ent_lang_use_corrector(nlu_lang_t *lang, const nlu_corrector_t *corrector,
                            size_t words, size_t places)
{
    lang->corrector = corrector;
    lang->corrector_words = words;
    lang->corrector_places = places;
}

/* Returns 1 when word id `id` starts no phrase. */
static int starts_none(const nlu_lang_t *lang, uint32_t id)
{
    return id == ENT_NO_ID || !(lang->vocab[id].flags & ENT_WORD_STARTS);
}

/* Returns 1 when no candidate and no phrase can start at token t, as
 * prepare() left it: not a number, and neither its word nor its
 * corrections into known words and place names start a phrase. A word
 * outside the lexicons must also have no synonym among its compound
 * parts, and its place correction must be known already. */
static int token_inert(const nlu_lang_t *lang, const tok_t *t)
{
    if (t->is_num || t->is_digits || !starts_none(lang, t->id) ||
        !starts_none(lang, t->word))
        return 0;
    if (t->word_flags & (ENT_WORD_KNOWN | ENT_WORD_PLACE))
        return 1; /* prepare() set place_done; place is ENT_NO_ID */
    return t->memo && t->memo->place != PLACE_LATER &&
           starts_none(lang, t->memo->place) && !t->memo->compound;
}

/* Fills the token array from the text. */
static void prepare(ext_t *x)
{
    tokenize(x);
    merge_decimals(x);

    for (size_t i = 0; i < x->count; i++) {
        tok_t *t = &x->toks[i];
        if (t->own_memo)
            t->memo = &t->own; /* the token may have moved */
        size_t prev_end = i > 0 ? x->toks[i - 1].end : 0;
        size_t next_start =
            i + 1 < x->count ? x->toks[i + 1].start : x->text_len;
        t->sep_before = separator(x->text, prev_end, t->start);
        t->sep_after = separator(x->text, t->end, next_start);
        if (t->is_num || (t->word_flags & (ENT_WORD_KNOWN | ENT_WORD_PLACE))) {
            t->place_done = 1;
            t->inert = token_inert(x->lang, t);
            continue;
        }
        t->word = t->memo ? t->memo->word
                          : correction(x->lang, x->lang->words, t->norm);
        t->inert = token_inert(x->lang, t);
    }
}

/* ---- phrase lookup ------------------------------------------------------- */

/* Returns the word id of token k in `form`. A token's correction into a
 * place name is looked up here, the first time it is needed, because a
 * corrected place fires only after a context word or with a capital. */
static uint32_t token_id(const ext_t *x, size_t k, form_t form)
{
    tok_t *t = &x->toks[k];
    if (form == FORM_WORD && t->word != ENT_NO_ID)
        return t->word;
    if (form == FORM_PLACE) {
        if (!t->place_done) {
            t->place = t->memo && t->memo->place != PLACE_LATER
                           ? t->memo->place
                           : correction(x->lang, x->lang->places, t->norm);
            t->place_done = 1;
        }
        if (t->place != ENT_NO_ID)
            return t->place;
    }
    return t->id;
}

/* Returns 1 when `entry` wins over `best` for the same phrase. Items run
 * from the newest, so ">=" hands a tie to the item listed first in the
 * data. A place prefers a municipality, and other roles the entry with
 * more flags ("jaar oud" is listed as weak and as strong). */
static int prefer(const ent_entry_t *entry, const ent_entry_t *best)
{
    if (entry->role == ENT_ROLE_PLACE)
        return (entry->flags & ENT_PLACE_MUNICIPALITY) >=
               (best->flags & ENT_PLACE_MUNICIPALITY);
    return entry->flags >= best->flags;
}

/* Walks the phrase trie from token i with the tokens in one form and
 * stores, per role, the longest phrase in len and entry. Both arrays
 * start with every length 0. Returns 1 when it found a phrase. */
static int walk(const ext_t *x, size_t i, form_t form, unsigned char *len,
                const ent_entry_t **entry)
{
    const nlu_lang_t *lang = x->lang;
    uint32_t node = 0;
    int found = 0;
    for (size_t d = 0; d < ENT_PHRASE_TOKENS && i + d < x->count; d++) {
        node = ent_node_child(lang, node, token_id(x, i + d, form));
        if (node == ENT_NO_ID)
            return found;
        const ent_node_t *n = &lang->nodes[node];
        for (uint32_t k = 0; k < n->item_count; k++) {
            const ent_item_t *item =
                &lang->items[lang->node_items[n->first_item + k]];
            ent_role_t role = item->entry.role;
            if (len[role] != d + 1 || prefer(&item->entry, entry[role])) {
                len[role] = (unsigned char)(d + 1);
                entry[role] = &item->entry;
            }
            found = 1;
        }
    }
    return found;
}

/* Returns 1 when a token in the longest phrase window from token i has a
 * correction into a known word. */
static int window_corrected(const ext_t *x, size_t i)
{
    for (size_t d = 0; d < ENT_PHRASE_TOKENS && i + d < x->count; d++)
        if (x->toks[i + d].word != ENT_NO_ID)
            return 1;
    return 0;
}

/* Looks up the phrases at token i for lookup(). */
static const memo_t *lookup_walk(const ext_t *x, size_t i)
{
    memo_t *memo = &x->memo[i];
    memo->done = 1;
    memo->any = (unsigned char)walk(x, i, FORM_EXACT, memo->len, memo->entry);
    if (!window_corrected(x, i))
        return memo;
    unsigned char len[ENT_ROLE_COUNT] = {0};
    const ent_entry_t *entry[ENT_ROLE_COUNT];
    if (!walk(x, i, FORM_WORD, len, entry))
        return memo;
    for (int role = 0; role < ENT_ROLE_COUNT; role++) {
        if (role == ENT_ROLE_PLACE || memo->len[role] || !len[role])
            continue;
        memo->len[role] = len[role];
        memo->entry[role] = entry[role];
        memo->any = 1;
    }
    return memo;
}

/* Looks up the phrases at token i once: as written, then with typos
 * corrected into known words for the roles not found as written. */
static inline const memo_t *lookup(const ext_t *x, size_t i)
{
    const memo_t *memo = &x->memo[i];
    return memo->done ? memo : lookup_walk(x, i);
}

/* Finds a phrase as written, then with typos corrected into known words. */
static int find(const ext_t *x, size_t i, ent_role_t role, match_t *m)
{
    if (i >= x->count)
        return 0;
    const memo_t *memo = lookup(x, i);
    if (!memo->len[role])
        return 0;
    m->len = memo->len[role];
    m->entry = memo->entry[role];
    return 1;
}

static int token_is_role(const ext_t *x, size_t i, ent_role_t role)
{
    match_t m;
    return find(x, i, role, &m) && m.len == 1;
}

/* Adds a candidate; returns it, or NULL when there is no room. */
static cand_t *add_cand(ext_t *x, size_t first, size_t last,
                        nlu_entity_kind_t kind, const char *value,
                        double number, int priority)
{
    if (x->cand_count == x->cand_cap || last <= first)
        return NULL;
    cand_t *c = &x->cands[x->cand_count++];
    c->first = first;
    c->last = last;
    c->kind = kind;
    c->value = value ? value : "";
    c->number = number;
    c->priority = priority;
    c->vague = 0;
    return c;
}

/* ---- amounts ------------------------------------------------------------- */

/* Parses the second number of a range after token i - 1: "2 a 3",
 * "12-14", "12 tot 14". */
static int range_end(const ext_t *x, size_t i, amount_t *a)
{
    if (i < x->count && x->toks[i].is_num && x->toks[i].sep_before == '-') {
        a->to = x->toks[i].num;
        a->end = i + 1;
        return 1;
    }
    match_t m;
    if (find(x, i, ENT_ROLE_RANGE, &m) && i + m.len < x->count &&
        x->toks[i + m.len].is_num) {
        a->to = x->toks[i + m.len].num;
        a->end = i + m.len + 1;
        return 1;
    }
    return 0;
}

static int parse_amount(const ext_t *x, size_t i, amount_t *a)
{
    match_t m;
    memset(a, 0, sizeof *a);
    if (i >= x->count)
        return 0;
    if (find(x, i, ENT_ROLE_NUMBER_PHRASE, &m)) {
        a->from = a->to = m.entry->number;
        a->end = i + m.len;
        a->phrase = 1;
        return 1;
    }
    if (token_is_role(x, i, ENT_ROLE_ARTICLE)) {
        a->from = a->to = 1;
        a->end = i + 1;
        a->article = 1;
        return 1;
    }
    if (!x->toks[i].is_num)
        return 0;
    a->from = a->to = x->toks[i].num;
    a->end = i + 1;
    if (token_is_role(x, a->end, ENT_ROLE_NUMBER_SUFFIX))
        a->end++;
    range_end(x, a->end, a);
    if (a->to < a->from)
        a->to = a->from;
    return 1;
}

/* ---- time budget --------------------------------------------------------- */

/* Parses a period at token i: "per week", "/maand", "om de twee weken",
 * "wekelijks". Sets *per_month (periods per month) and returns the end
 * token, or i when there is none. */
static size_t parse_period(const ext_t *x, size_t i, double *per_month)
{
    match_t m;
    if (i >= x->count)
        return i;
    if (find(x, i, ENT_ROLE_PERIOD_ADVERB, &m)) {
        *per_month = m.entry->number;
        return i + m.len;
    }
    if (x->toks[i].sep_before == '/' && find(x, i, ENT_ROLE_PERIOD, &m)) {
        *per_month = m.entry->number;
        return i + m.len;
    }
    if (!find(x, i, ENT_ROLE_PERIOD_WORD, &m))
        return i;
    size_t at = i + m.len;
    double every = 1;
    amount_t a;
    if (parse_amount(x, at, &a) && !a.article && a.from > 0) {
        every = a.from;
        at = a.end;
    }
    if (!find(x, at, ENT_ROLE_PERIOD, &m))
        return i;
    *per_month = m.entry->number / every;
    return at + m.len;
}

/* Parses "2 keer" at token i. Returns the end token, or i. */
static size_t parse_times(const ext_t *x, size_t i, double *times)
{
    amount_t a;
    match_t m;
    if (!parse_amount(x, i, &a) || !find(x, a.end, ENT_ROLE_TIMES, &m))
        return i;
    *times = a.from;
    return a.end + m.len;
}

/* Parses an amount and a time unit at token i ("2 uur", "een halve dag").
 * Returns the end token, or i. */
static size_t parse_duration(const ext_t *x, size_t i, double *hours)
{
    amount_t a;
    match_t m;
    if (parse_amount(x, i, &a) && find(x, a.end, ENT_ROLE_TIME_UNIT, &m)) {
        *hours = (a.from + a.to) / 2 * m.entry->number;
        return a.end + m.len;
    }
    return i;
}

static double round_tenth(double value)
{
    double r = round(value * 10 + 1e-6) / 10;
    return r == 0 && value > 0 ? 0.1 : r;
}

/* Time budget at token i, in hours per month: [times] [period] duration
 * [times] [period]. Without a period the budget is taken per month. */
static void try_time(ext_t *x, size_t i)
{
    match_t m;
    if (find(x, i, ENT_ROLE_VAGUE_TIME, &m)) {
        cand_t *c =
            add_cand(x, i, i + m.len, NLU_ENT_TIME, "", m.entry->number, 3);
        if (c)
            c->vague = 1;
        return;
    }
    double times = 1, per_month = 1, hours = 0;
    int has_period = 0;
    size_t at = parse_times(x, i, &times);
    size_t after = parse_period(x, at, &per_month);
    has_period = after != at;
    size_t end = parse_duration(x, after, &hours);
    if (end == after)
        return;
    if (at == i) {
        size_t t = parse_times(x, end, &times);
        end = t;
    }
    if (!has_period) {
        size_t p = parse_period(x, end, &per_month);
        has_period = p != end;
        end = p;
    }
    /* "om 2 uur" is a time of day, not a budget. */
    if (!has_period && i > 0 && strcmp(x->toks[i - 1].norm, "om") == 0)
        return;
    add_cand(x, i, end, NLU_ENT_TIME, "",
             round_tenth(hours * times * per_month), 3);
}

/* ---- company size -------------------------------------------------------- */

static void add_size(ext_t *x, size_t first, size_t last, double employees)
{
    const char *size = ent_range_value(&x->lang->sizes, employees);
    if (size)
        add_cand(x, first, last, NLU_ENT_SIZE, size, employees, 3);
}

/* "we zijn met 12", "35 werknemers", "een 40-tal medewerkers". */
static void try_size(ext_t *x, size_t i)
{
    match_t m;
    amount_t a;
    if (find(x, i, ENT_ROLE_EMPLOYEE_INTRO, &m) &&
        parse_amount(x, i + m.len, &a) && !a.article && !a.phrase &&
        a.from >= 1) {
        size_t end = a.end;
        match_t w;
        if (find(x, end, ENT_ROLE_EMPLOYEE, &w))
            end += w.len;
        add_size(x, i, end, round((a.from + a.to) / 2));
        return;
    }
    if (parse_amount(x, i, &a) && !a.article && !a.phrase && a.from >= 1 &&
        find(x, a.end, ENT_ROLE_EMPLOYEE, &m))
        add_size(x, i, a.end + m.len, round((a.from + a.to) / 2));
}

/* ---- ages ---------------------------------------------------------------- */

static void add_age(ext_t *x, size_t first, size_t last, const amount_t *a,
                    int open_end)
{
    double age = open_end ? a->from : floor((a->from + a->to) / 2);
    if (age < 2 || age > 120)
        return;
    const char *level = ent_range_value(&x->lang->ages, age);
    if (level)
        add_cand(x, first, last, NLU_ENT_LEVEL, level, 0, 3);
}

/* "kinderen van 9", "jongeren tussen 12 en 14 jaar", "15-jarigen",
 * "18+". A number with only "jaar" after it is not an age, because
 * "we bestaan 30 jaar" is common. */
static void try_age(ext_t *x, size_t i)
{
    match_t noun, before, after;
    size_t at = i;
    int has_noun = find(x, at, ENT_ROLE_AGE_NOUN, &noun);
    if (has_noun)
        at += noun.len;
    int has_before = find(x, at, ENT_ROLE_AGE_BEFORE, &before);
    if (has_before)
        at += before.len;
    amount_t a;
    if (!parse_amount(x, at, &a) || a.article || a.phrase ||
        !x->toks[at].is_num)
        return;
    size_t end = a.end;
    int has_after = find(x, end, ENT_ROLE_AGE_AFTER, &after);
    int flags = 0;
    if (has_after) {
        end += after.len;
        flags = after.entry->flags;
    }
    int plus_after = x->toks[a.end - 1].sep_after == '+';
    int plus_before = x->toks[at].sep_before == '+';
    int open_end = (flags & ENT_AGE_OPEN_END) || plus_after || plus_before;

    int ok = (has_noun && (has_before || has_after)) ||
             (flags & ENT_AGE_STRONG) ||
             ((plus_after || plus_before) && a.from >= 12 && a.from <= 30);
    if (!ok)
        return;
    add_age(x, i, end, &a, open_end);
}

/* ---- places and postcodes ------------------------------------------------ */

static int after_context(const ext_t *x, size_t i)
{
    return i > 0 && token_is_role(x, i - 1, ENT_ROLE_PLACE_CONTEXT);
}

/* Returns 1 when a place found at token i with `m` may fire. */
static int place_allowed(const ext_t *x, size_t i, const match_t *m,
                         int corrected)
{
    const tok_t *last = &x->toks[i + m->len - 1];
    int context = after_context(x, i);
    int capital = last->capital && !(m->len == 1 && last->sentence_start);
    int flags = m->entry->flags;
    if (corrected)
        return (context || capital) &&
               !(flags & (ENT_PLACE_NEEDS_CONTEXT | ENT_PLACE_NEEDS_CAPITAL));
    if (flags & ENT_PLACE_NEEDS_CAPITAL)
        return last->capital && (context || !last->sentence_start);
    if (flags & ENT_PLACE_NEEDS_CONTEXT)
        return context || capital;
    return 1;
}

/* Returns 0 when no place with typos corrected at token i can pass
 * place_allowed(): there is no context word before it, and no token that
 * can end it has a capital that counts. */
static int corrected_place_may_fire(const ext_t *x, size_t i)
{
    const tok_t *first = &x->toks[i];
    if (after_context(x, i) || (first->capital && !first->sentence_start))
        return 1;
    size_t window = x->lang->role_tokens[ENT_ROLE_PLACE];
    for (size_t d = 1; d < window && i + d < x->count; d++)
        if (x->toks[i + d].capital)
            return 1;
    return 0;
}

/* Finds a place at token i that may fire; sets *m. */
static int find_place(const ext_t *x, size_t i, match_t *m)
{
    if (i >= x->count)
        return 0;
    memo_t *memo = &x->memo[i];
    lookup(x, i);
    if (memo->len[ENT_ROLE_PLACE]) {
        m->len = memo->len[ENT_ROLE_PLACE];
        m->entry = memo->entry[ENT_ROLE_PLACE];
        return place_allowed(x, i, m, 0);
    }
    if (!memo->place_done) {
        memo->place_done = 1;
        unsigned char len[ENT_ROLE_COUNT] = {0};
        const ent_entry_t *entry[ENT_ROLE_COUNT];
        if (corrected_place_may_fire(x, i))
            walk(x, i, FORM_PLACE, len, entry);
        memo->place_len = len[ENT_ROLE_PLACE];
        memo->place_entry = len[ENT_ROLE_PLACE] ? entry[ENT_ROLE_PLACE] : NULL;
    }
    if (!memo->place_len)
        return 0;
    m->len = memo->place_len;
    m->entry = memo->place_entry;
    return place_allowed(x, i, m, 1);
}

static void try_place(ext_t *x, size_t i)
{
    match_t m;
    if (find_place(x, i, &m))
        add_cand(x, i, i + m.len, NLU_ENT_REGION, m.entry->value, 0, 1);
}

/* A four-digit postcode: next to a place name, after "postcode" or "in"
 * (unless it looks like a year), or alone in the message. */
static void try_postcode(ext_t *x, size_t i)
{
    const tok_t *t = &x->toks[i];
    if (!t->is_digits || t->len != 4 || t->num < POSTCODE_MIN ||
        t->num > POSTCODE_MAX)
        return;
    match_t m;
    size_t end = i + 1;
    int place = find_place(x, i + 1, &m);
    if (place)
        end += m.len;
    int year = t->num >= YEAR_MIN && t->num <= YEAR_MAX;
    int capital_next = i + 1 < x->count && x->toks[i + 1].capital;
    if (!place && !capital_next && !(after_context(x, i) && !year) &&
        x->count != 1)
        return;
    const char *region = ent_range_value(&x->lang->postcodes, t->num);
    if (!region)
        return;
    if (region[0] == '\0') {
        /* Outside Flanders: the number is consumed, no region fires. */
        add_cand(x, i, end, NLU_ENT_KIND_COUNT, "", t->num, 4);
        return;
    }
    add_cand(x, i, end, NLU_ENT_REGION, region, 0, 4);
}

/* ---- synonyms ------------------------------------------------------------ */

/* Returns the synonym among the parts of a compound ("metaalbedrijfje"),
 * or NULL when no part or parts of different entities are synonyms. */
static const ent_entry_t *compound_synonym(const nlu_lang_t *lang,
                                           const char *norm)
{
    char parts[4][NLU_PART_MAX];
    size_t n = nlu_split_compound(lang->words, norm, parts, 4);
    const ent_entry_t *found = NULL;
    for (size_t p = 0; p < n; p++) {
        uint32_t id = ent_word_find(lang, parts[p], strlen(parts[p]));
        uint32_t node = ent_node_child(lang, 0, id);
        if (node == ENT_NO_ID)
            continue;
        const ent_node_t *part = &lang->nodes[node];
        for (uint32_t k = 0; k < part->item_count; k++) {
            const ent_entry_t *entry =
                &lang->items[lang->node_items[part->first_item + k]].entry;
            if (entry->role != ENT_ROLE_SYNONYM)
                continue;
            if (found && (found->kind != entry->kind ||
                          strcmp(found->value, entry->value) != 0))
                return NULL; /* two different entities: leave it */
            found = entry;
        }
    }
    return found;
}

/* Fires the synonym among the parts of the compound at token i. */
static void try_compound(ext_t *x, size_t i)
{
    const tok_t *t = &x->toks[i];
    const ent_entry_t *found =
        t->memo ? t->memo->compound : compound_synonym(x->lang, t->norm);
    if (found)
        add_cand(x, i, i + 1, found->kind, found->value, 0, 2);
}

static void try_synonym(ext_t *x, size_t i)
{
    match_t m;
    const tok_t *t = &x->toks[i];
    if (find(x, i, ENT_ROLE_SYNONYM, &m))
        add_cand(x, i, i + m.len, m.entry->kind, m.entry->value, 0, 2);
    else if (!t->is_num && t->len >= 6 &&
             !(t->word_flags & (ENT_WORD_PLACE | ENT_WORD_KNOWN)))
        try_compound(x, i); /* a known word is never split */
}

/* Returns 1 when a candidate of this kind and value was found already. */
static int has_cand(const ext_t *x, nlu_entity_kind_t kind, const char *value)
{
    for (size_t c = 0; c < x->cand_count; c++)
        if (x->cands[c].kind == kind && !strcmp(x->cands[c].value, value))
            return 1;
    return 0;
}

/* Fires each cue ("zoeken") whose entity one of its words ("lassers")
 * completes anywhere in the message, unless a synonym gave that entity.
 * The cue alone is the span, so a sector named in the words ("cnc
 * operators") keeps its own. */
static void try_cues(ext_t *x)
{
    for (size_t i = 0; i < x->count; i++) {
        match_t cue;
        if (!lookup(x, i)->any || !find(x, i, ENT_ROLE_CUE, &cue))
            continue;
        for (size_t j = 0; j < x->count; j++) {
            match_t word;
            if (find(x, j, ENT_ROLE_CUE_WORD, &word) &&
                word.entry->kind == cue.entry->kind &&
                strcmp(word.entry->value, cue.entry->value) == 0 &&
                !has_cand(x, cue.entry->kind, cue.entry->value)) {
                add_cand(x, i, i + cue.len, cue.entry->kind, cue.entry->value,
                         0, 1);
                break;
            }
        }
    }
}

/* ---- resolution ---------------------------------------------------------- */

static int compare_strength(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    size_t lx = x->last - x->first, ly = y->last - y->first;
    if (lx != ly)
        return lx > ly ? -1 : 1;
    if (x->priority != y->priority)
        return y->priority - x->priority;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int compare_position(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Keeps the strongest candidates that do not overlap, then adds plain
 * numbers in the tokens that are left. */
static size_t resolve(ext_t *x, nlu_entity_t *out, size_t max)
{
    unsigned char used[MAX_TOKENS];
    cand_t kept[MAX_TOKENS];
    size_t kept_count = 0;
    memset(used, 0, x->count);
    if (x->cand_count > 1)
        qsort(x->cands, x->cand_count, sizeof *x->cands, compare_strength);
    for (size_t c = 0; c < x->cand_count; c++) {
        cand_t *cand = &x->cands[c];
        int free_span = 1;
        for (size_t t = cand->first; t < cand->last; t++)
            if (used[t])
                free_span = 0;
        if (!free_span)
            continue;
        for (size_t t = cand->first; t < cand->last; t++)
            used[t] = 1;
        if (cand->kind != NLU_ENT_KIND_COUNT && kept_count < MAX_TOKENS)
            kept[kept_count++] = *cand;
    }
    /* A number beats a vague phrase: "amper tijd, een uurtje per kwartaal"
     * is a third of an hour a month. */
    int precise_time = 0;
    for (size_t k = 0; k < kept_count; k++)
        if (kept[k].kind == NLU_ENT_TIME && !kept[k].vague)
            precise_time = 1;
    if (precise_time) {
        size_t w = 0;
        for (size_t k = 0; k < kept_count; k++)
            if (!(kept[k].kind == NLU_ENT_TIME && kept[k].vague))
                kept[w++] = kept[k];
        kept_count = w;
    }
    for (size_t t = 0; t < x->count && kept_count < MAX_TOKENS; t++) {
        if (used[t] || !x->toks[t].is_num ||
            token_is_role(x, t, ENT_ROLE_ARTICLE))
            continue;
        cand_t *c = &kept[kept_count++];
        memset(c, 0, sizeof *c);
        c->first = t;
        c->last = t + 1;
        c->kind = NLU_ENT_NUMBER;
        c->value = "";
        c->number = x->toks[t].num;
    }
    if (kept_count > 1)
        qsort(kept, kept_count, sizeof *kept, compare_position);

    size_t n = 0;
    for (size_t k = 0; k < kept_count && n < max; k++) {
        nlu_entity_t *e = &out[n++];
        memset(e, 0, sizeof *e);
        e->kind = kept[k].kind;
        size_t value_len = strlen(kept[k].value);
        if (value_len >= sizeof e->value)
            value_len = sizeof e->value - 1;
        memcpy(e->value, kept[k].value, value_len);
        e->value[value_len] = '\0';
        e->number = kept[k].number;
        e->start = x->toks[kept[k].first].start;
        e->end = x->toks[kept[k].last - 1].end;
        /* "18+" keeps its plus sign. */
        if (kept[k].kind == NLU_ENT_LEVEL && e->end < x->text_len &&
            x->text[e->end] == '+')
            e->end++;
    }
    return n;
}

/* Extracts from text, tokenised by nlu_tokenize() into `given` when it
 * is not NULL. */
static size_t extract(const nlu_lang_t *lang, const char *text, size_t len,
                      const nlu_token_t *given, size_t given_count,
                      int use_unknown, nlu_entity_t *out, size_t max)
{
    tok_t small_toks[SMALL_TOKENS];
    memo_t small_memo[SMALL_TOKENS];
    cand_t small_cands[SMALL_TOKENS * CANDIDATES_PER_TOKEN];
    ext_t x = {.lang = lang,
               .text = text,
               .text_len = len,
               .given = given,
               .given_count = given_count,
               .toks = small_toks,
               .token_cap = SMALL_TOKENS,
               .use_unknown = use_unknown};
    prepare(&x);

    /* Long messages allocate their lookups and candidates on the heap. */
    void *heap = NULL;
    x.memo = small_memo;
    x.cands = small_cands;
    x.cand_cap = SMALL_TOKENS * CANDIDATES_PER_TOKEN;
    if (x.count > SMALL_TOKENS) {
        x.cand_cap = x.count * CANDIDATES_PER_TOKEN;
        if (x.cand_cap > MAX_CANDIDATES)
            x.cand_cap = MAX_CANDIDATES;
        heap = malloc(x.count * sizeof *x.memo + x.cand_cap * sizeof *x.cands);
        if (!heap) {
            free(x.heap_toks);
            return 0;
        }
        x.memo = heap;
        x.cands = (cand_t *)(x.memo + x.count);
    }
    memset(x.memo, 0, x.count * sizeof *x.memo);

    for (size_t i = 0; i < x.count; i++) {
        if (x.toks[i].inert) {
            /* What lookup() and find_place() would find: nothing. */
            x.memo[i].done = 1;
            x.memo[i].place_done = 1;
            continue;
        }
        /* Time, size and age all start with a number or a phrase. */
        if (x.toks[i].is_num || lookup(&x, i)->any) {
            try_time(&x, i);
            try_size(&x, i);
            try_age(&x, i);
        }
        try_postcode(&x, i);
        try_place(&x, i);
        try_synonym(&x, i);
    }
    try_cues(&x);
    size_t n = resolve(&x, out, max);
    free(heap);
    free(x.heap_toks);
    return n;
}

size_t nlu_extract_entities(const nlu_lang_t *lang, const char *text,
                            nlu_entity_t *out, size_t max)
{
    if (!lang || !text || max == 0)
        return 0;
    return extract(lang, text, strlen(text), NULL, 0, 0, out, max);
}

size_t ent_extract_tokens(const nlu_lang_t *lang, const char *text, size_t len,
                          const nlu_token_t *tokens, size_t token_count,
                          nlu_entity_t *out, size_t max)
{
    if (!lang || !text || max == 0)
        return 0;
    return extract(lang, text, len, tokens, token_count, 1, out, max);
}

int ent_lang_memoize(nlu_lang_t *lang, const nlu_lexicon_t *words)
{
    size_t count = nlu_lexicon_word_count(words), bytes = 0;
    for (size_t i = 0; i < count; i++)
        bytes += strlen(nlu_lexicon_word(words, i)) + 1;
    if (lang->memo || ent_memo_reserve(lang, count, bytes))
        return -1;
    lang->unknown = nlu_word_memo_new(UNKNOWN_MEMO_SLOTS, sizeof(ent_memo_t));
    if (!lang->unknown)
        return -1;
    char *at = lang->memo_text;
    for (size_t i = 0; i < count; i++) {
        const char *word = nlu_lexicon_word(words, i);
        ent_memo_t *m = ent_memo_add(lang, word, at);
        if (!m)
            continue;
        at += m->len + 1;
        m->word = correction(lang, lang->words, word);
        m->place = correction(lang, lang->places, word);
        m->compound = compound_synonym(lang, word);
        m->num = 0;
        m->is_num = number_word(lang, word, &m->num);
    }
    return 0;
}
