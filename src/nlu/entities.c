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
#define POSTCODE_MIN 1000
#define POSTCODE_MAX 9999
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
    char word[64];  /* correction into a known word, "" when none */
    char place[64]; /* correction into a place name token, "" when none */
    int is_num;
    int is_digits;
    double num;
    int capital;
    int sentence_start;
    char sep_before; /* punctuation right before the token, or 0 */
    char sep_after;  /* punctuation right after the token, or 0 */
} tok_t;

/* A matched phrase: its length in tokens and its entry. */
typedef struct match_memo {
    size_t len;
    const ent_entry_t *entry;
} match_t;

typedef struct {
    size_t first; /* token range [first, last) */
    size_t last;
    nlu_entity_kind_t kind;
    char value[NLU_VALUE_MAX];
    double number;
    int priority;
} cand_t;

typedef struct {
    const nlu_lang_t *lang;
    const char *text;
    size_t text_len;
    tok_t *toks;
    size_t count;
    cand_t *cands;
    size_t cand_count;
    /* find() results per token and role: 0 not looked up, 1 none, 2 found */
    unsigned char (*memo_state)[ENT_ROLE_COUNT];
    struct match_memo (*memo)[ENT_ROLE_COUNT];
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

/* Splits a leading run of digits from a letter suffix ("4u", "2de"). The
 * digits have the same bytes in the folded form and in the text. */
static int collect(const nlu_token_t *token, void *arg)
{
    collect_t *c = arg;
    const char *f = token->folded;
    size_t digits = 0;
    while (isdigit((unsigned char)f[digits]))
        digits++;
    if (digits == 0 || f[digits] == '\0') {
        push_token(c, token->start, token->end, f, strlen(f), digits > 0);
        return c->count == c->max;
    }
    push_token(c, token->start, token->start + digits, f, digits, 1);
    push_token(c, token->start + digits, token->end, f + digits,
               strlen(f + digits), 0);
    return c->count == c->max;
}

size_t ent_tokens(const char *text, size_t len, ent_token_t *out, size_t max)
{
    collect_t c = {out, max, 0};
    nlu_tokenize(text, len, collect, &c);
    return c.count;
}

/* ---- token preparation --------------------------------------------------- */

static int is_upper_at(const char *text, size_t at)
{
    unsigned char c = (unsigned char)text[at];
    if (isupper(c))
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
        if (!isspace((unsigned char)text[i]))
            return text[i];
    return 0;
}

static int starts_sentence(const char *text, size_t start)
{
    while (start > 0) {
        unsigned char c = (unsigned char)text[start - 1];
        if (c == '.' || c == '!' || c == '?' || c == ':' || c == '\n')
            return 1;
        if (!isspace(c) && c != '"' && c != '\'' && c != '(' && c != '-')
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
        x->toks[out++] = *t;
    }
    x->count = out;
}

static void apply_alias(const nlu_lang_t *lang, char *norm, size_t size)
{
    for (size_t i = 0; i < lang->token_alias_count; i++)
        if (strcmp(norm, lang->token_alias[i][0]) == 0)
            snprintf(norm, size, "%s", lang->token_alias[i][1]);
}

/* Fills the token array from the text. */
static void prepare(ext_t *x)
{
    ent_token_t raw[MAX_TOKENS];
    size_t n = ent_tokens(x->text, x->text_len, raw, MAX_TOKENS);
    for (size_t i = 0; i < n; i++) {
        tok_t *t = &x->toks[i];
        memset(t, 0, sizeof *t);
        t->start = raw[i].start;
        t->end = raw[i].end;
        snprintf(t->norm, sizeof t->norm, "%s", raw[i].folded);
        apply_alias(x->lang, t->norm, sizeof t->norm);
        t->is_digits = raw[i].is_digits;
        if (t->is_digits) {
            t->num = strtod(t->norm, NULL);
            t->is_num = 1;
        } else if (ent_number_word(x->lang, t->norm, &t->num)) {
            t->is_num = 1;
        }
        t->capital = is_upper_at(x->text, t->start);
        t->sentence_start = starts_sentence(x->text, t->start);
    }
    x->count = n;
    merge_decimals(x);

    for (size_t i = 0; i < x->count; i++) {
        tok_t *t = &x->toks[i];
        size_t prev_end = i > 0 ? x->toks[i - 1].end : 0;
        size_t next_start =
            i + 1 < x->count ? x->toks[i + 1].start : x->text_len;
        t->sep_before = separator(x->text, prev_end, t->start);
        t->sep_after = separator(x->text, t->end, next_start);
        if (t->is_num || nlu_lexicon_has(x->lang->words, t->norm) ||
            nlu_lexicon_has(x->lang->places, t->norm))
            continue;
        nlu_lexicon_correct(x->lang->words, t->norm, t->word, sizeof t->word);
        nlu_lexicon_correct(x->lang->places, t->norm, t->place,
                            sizeof t->place);
    }
}

/* ---- phrase lookup ------------------------------------------------------- */

static const char *token_form(const tok_t *t, form_t form)
{
    if (form == FORM_WORD && t->word[0])
        return t->word;
    if (form == FORM_PLACE && t->place[0])
        return t->place;
    return t->norm;
}

/* Builds the key of tokens [i, i + n) in the given form. Returns its
 * length, or 0 when it does not fit. */
static size_t build_key(const ext_t *x, size_t i, size_t n, form_t form,
                        char *key, size_t size)
{
    size_t used = 0;
    for (size_t k = 0; k < n; k++) {
        const char *form_text = token_form(&x->toks[i + k], form);
        size_t len = strlen(form_text);
        if (used + len + 2 > size)
            return 0;
        if (k > 0)
            key[used++] = ' ';
        memcpy(key + used, form_text, len);
        used += len;
    }
    key[used] = '\0';
    return used;
}

/* Finds the longest phrase with `role` at token i in one form. For
 * places, a municipality wins over a former municipality of the same
 * name. */
static int find_form(const ext_t *x, size_t i, ent_role_t role, form_t form,
                     match_t *m)
{
    size_t most = x->count - i;
    if (most > x->lang->role_tokens[role])
        most = x->lang->role_tokens[role];
    for (size_t n = most; n >= 1; n--) {
        char key[ENT_KEY_MAX];
        size_t len = build_key(x, i, n, form, key, sizeof key);
        if (len == 0)
            continue;
        const ent_item_t *item = ent_lang_find(x->lang, key, len);
        int found = 0;
        while (item) {
            if (strcmp(item->key, key) == 0 && item->entry.role == role) {
                /* The chain runs from the newest item, so ">=" hands a tie
                 * to the item listed first in the data. A place prefers a
                 * municipality, and other roles the entry with more flags
                 * ("jaar oud" is listed as weak and as strong). */
                int better;
                if (!found)
                    better = 1;
                else if (role == ENT_ROLE_PLACE)
                    better = (item->entry.flags & ENT_PLACE_MUNICIPALITY) >=
                             (m->entry->flags & ENT_PLACE_MUNICIPALITY);
                else
                    better = item->entry.flags >= m->entry->flags;
                if (better) {
                    m->len = n;
                    m->entry = &item->entry;
                }
                found = 1;
            }
            item = item->next == SIZE_MAX ? NULL : &x->lang->items[item->next];
        }
        if (found)
            return 1;
    }
    return 0;
}

/* Finds a phrase as written, then with typos corrected into known words. */
static int find(const ext_t *x, size_t i, ent_role_t role, match_t *m)
{
    if (i >= x->count)
        return 0;
    unsigned char *state = &x->memo_state[i][role];
    if (*state == 0) {
        int found = find_form(x, i, role, FORM_EXACT, m) ||
                    find_form(x, i, role, FORM_WORD, m);
        *state = found ? 2 : 1;
        if (found)
            x->memo[i][role] = *m;
    }
    if (*state == 2)
        *m = x->memo[i][role];
    return *state == 2;
}

static int token_is_role(const ext_t *x, size_t i, ent_role_t role)
{
    match_t m;
    return find(x, i, role, &m) && m.len == 1;
}

static void add_cand(ext_t *x, size_t first, size_t last,
                     nlu_entity_kind_t kind, const char *value, double number,
                     int priority)
{
    if (x->cand_count == MAX_CANDIDATES || last <= first)
        return;
    cand_t *c = &x->cands[x->cand_count++];
    c->first = first;
    c->last = last;
    c->kind = kind;
    snprintf(c->value, sizeof c->value, "%s", value ? value : "");
    c->number = number;
    c->priority = priority;
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
        add_cand(x, i, i + m.len, NLU_ENT_TIME, "", m.entry->number, 3);
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

/* Finds a place at token i that may fire; sets *m. */
static int find_place(const ext_t *x, size_t i, match_t *m)
{
    if (i >= x->count)
        return 0;
    if (find_form(x, i, ENT_ROLE_PLACE, FORM_EXACT, m))
        return place_allowed(x, i, m, 0);
    if (find_form(x, i, ENT_ROLE_PLACE, FORM_PLACE, m))
        return place_allowed(x, i, m, 1);
    return 0;
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
    if (!t->is_digits || strlen(t->norm) != 4 || t->num < POSTCODE_MIN ||
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

/* Looks up the parts of a compound ("metaalbedrijfje") and fires when
 * exactly one entity is among them. */
static void try_compound(ext_t *x, size_t i)
{
    char parts[4][NLU_PART_MAX];
    size_t n = nlu_split_compound(x->lang->words, x->toks[i].norm, parts, 4);
    const ent_entry_t *found = NULL;
    for (size_t p = 0; p < n; p++) {
        const ent_item_t *item =
            ent_lang_find(x->lang, parts[p], strlen(parts[p]));
        for (; item; item = item->next == SIZE_MAX
                                ? NULL
                                : &x->lang->items[item->next]) {
            if (strcmp(item->key, parts[p]) != 0 ||
                item->entry.role != ENT_ROLE_SYNONYM)
                continue;
            if (found && (found->kind != item->entry.kind ||
                          strcmp(found->value, item->entry.value) != 0))
                return; /* two different entities: leave it */
            found = &item->entry;
        }
    }
    if (found)
        add_cand(x, i, i + 1, found->kind, found->value, 0, 2);
}

static void try_synonym(ext_t *x, size_t i)
{
    match_t m;
    if (find(x, i, ENT_ROLE_SYNONYM, &m))
        add_cand(x, i, i + m.len, m.entry->kind, m.entry->value, 0, 2);
    else if (!x->toks[i].is_num && strlen(x->toks[i].norm) >= 6 &&
             !nlu_lexicon_has(x->lang->places, x->toks[i].norm))
        try_compound(x, i);
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
    unsigned char used[MAX_TOKENS] = {0};
    cand_t kept[MAX_TOKENS];
    size_t kept_count = 0;
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
    for (size_t t = 0; t < x->count && kept_count < MAX_TOKENS; t++) {
        if (used[t] || !x->toks[t].is_num ||
            token_is_role(x, t, ENT_ROLE_ARTICLE))
            continue;
        cand_t *c = &kept[kept_count++];
        memset(c, 0, sizeof *c);
        c->first = t;
        c->last = t + 1;
        c->kind = NLU_ENT_NUMBER;
        c->number = x->toks[t].num;
    }
    qsort(kept, kept_count, sizeof *kept, compare_position);

    size_t n = 0;
    for (size_t k = 0; k < kept_count && n < max; k++) {
        nlu_entity_t *e = &out[n++];
        memset(e, 0, sizeof *e);
        e->kind = kept[k].kind;
        snprintf(e->value, sizeof e->value, "%s", kept[k].value);
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

size_t nlu_extract_entities(const nlu_lang_t *lang, const char *text,
                            nlu_entity_t *out, size_t max)
{
    if (!lang || !text || max == 0)
        return 0;
    tok_t *toks = malloc(MAX_TOKENS * sizeof *toks);
    cand_t *cands = malloc(MAX_CANDIDATES * sizeof *cands);
    unsigned char(*memo_state)[ENT_ROLE_COUNT] =
        calloc(MAX_TOKENS, sizeof *memo_state);
    match_t(*memo)[ENT_ROLE_COUNT] = malloc(MAX_TOKENS * sizeof *memo);
    if (!toks || !cands || !memo_state || !memo) {
        free(toks);
        free(cands);
        free(memo_state);
        free(memo);
        return 0;
    }
    ext_t x = {.lang = lang,
               .text = text,
               .text_len = strlen(text),
               .toks = toks,
               .cands = cands,
               .memo_state = memo_state,
               .memo = memo};
    prepare(&x);
    for (size_t i = 0; i < x.count; i++) {
        try_time(&x, i);
        try_size(&x, i);
        try_age(&x, i);
        try_postcode(&x, i);
        try_place(&x, i);
        try_synonym(&x, i);
    }
    size_t n = resolve(&x, out, max);
    free(toks);
    free(cands);
    free(memo_state);
    free(memo);
    return n;
}
