/* Derives from a regular expression the literal strings that every match
 * must start with, in the manner of the prefilters of RE2 and Google Code
 * Search, but only for the prefix of a match. Each subpattern gets two
 * sets of strings:
 *
 *   exact   every string the subpattern can match, when there are few
 *   prefix  strings one of which starts every match ("no constraint"
 *           when unknown)
 *
 * A concatenation A B starts with exact(A) followed by prefix(B); an
 * alternation unions its branches; "?" and "*" remove the constraint.
 * Whitespace repeated with "*" in front of B ("^\s*hallo") is recorded as
 * skippable instead. Zero-width assertions (\b, ^, $) match the empty
 * string, which keeps the derivation conservative: the filter rejects a
 * text only when no match can exist. */
#include "nlu/rule_filter.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SET_MAX 64    /* strings in one set before it counts as unknown */
#define STRING_MAX 24 /* bytes kept of a string; prefixes are truncated */
#define NEEDLE_BYTES 8
#define DEPTH_MAX 16

typedef struct {
    int known; /* 0: unknown (exact) or no constraint (prefix) */
    size_t count;
    unsigned char len[SET_MAX];
    char text[SET_MAX][STRING_MAX];
} set_t;

typedef struct {
    set_t exact;
    set_t prefix;
    int skip_space; /* the prefix may follow skipped whitespace */
    int is_space;   /* the atom matches whitespace only */
    int space_star; /* a whitespace atom repeated with a minimum of 0 */
    /* The prefix of an atom repeated with a minimum of 0, which a match of
     * the atom and what follows starts with when the atom is not skipped
     * (unknown when the atom has none). */
    set_t optional;
} info_t;

typedef struct {
    const char *at;
    int failed;
    int depth;
    int anchored;
    int alternation; /* the pattern has "|" outside every group */
} parser_t;

static void set_unknown(set_t *set)
{
    set->known = 0;
    set->count = 0;
}

static void set_empty_string(set_t *set)
{
    set->known = 1;
    set->count = 1;
    set->len[0] = 0;
}

/* Adds a string unless present. Returns 0, or -1 when the set is full or
 * the string too long. */
static int set_add(set_t *set, const char *text, size_t len)
{
    if (len > STRING_MAX)
        return -1;
    for (size_t i = 0; i < set->count; i++)
        if (set->len[i] == len && memcmp(set->text[i], text, len) == 0)
            return 0;
    if (set->count == SET_MAX)
        return -1;
    memcpy(set->text[set->count], text, len);
    set->len[set->count++] = (unsigned char)len;
    return 0;
}

static int set_has_empty(const set_t *set)
{
    for (size_t i = 0; i < set->count; i++)
        if (set->len[i] == 0)
            return 1;
    return 0;
}

/* out = a b, every string of a followed by every string of b. When
 * `truncate` is set, longer results are cut to STRING_MAX, which keeps a
 * prefix set valid. Returns 0, or -1 when the result does not fit. */
static int set_product(const set_t *a, const set_t *b, int truncate, set_t *out)
{
    out->known = 1;
    out->count = 0;
    for (size_t i = 0; i < a->count; i++) {
        for (size_t j = 0; j < b->count; j++) {
            char joined[2 * STRING_MAX];
            size_t len = a->len[i] + b->len[j];
            memcpy(joined, a->text[i], a->len[i]);
            memcpy(joined + a->len[i], b->text[j], b->len[j]);
            if (truncate && len > STRING_MAX)
                len = STRING_MAX;
            if (set_add(out, joined, len))
                return -1;
        }
    }
    return 0;
}

/* out = a or b. Returns 0, or -1 when the result does not fit. */
static int set_union(const set_t *a, const set_t *b, set_t *out)
{
    *out = *a;
    for (size_t j = 0; j < b->count; j++)
        if (set_add(out, b->text[j], b->len[j]))
            return -1;
    return 0;
}

/* A prefix set constrains only when it is known and lacks "". */
static void prefix_normalise(set_t *prefix)
{
    if (prefix->known && (prefix->count == 0 || set_has_empty(prefix)))
        set_unknown(prefix);
}

static void info_any(info_t *info)
{
    memset(info, 0, sizeof *info);
    set_unknown(&info->exact);
    set_unknown(&info->prefix);
    set_unknown(&info->optional);
}

static void info_empty(info_t *info)
{
    info_any(info);
    set_empty_string(&info->exact);
}

static void info_char(info_t *info, char c)
{
    info_any(info);
    info->exact.known = 1;
    set_add(&info->exact, &c, 1);
    info->prefix = info->exact;
}

static info_t *parse_alternation(parser_t *p, info_t *out);

/* Parses a character class after its "[". Small classes of literal
 * characters become exact sets; anything else matches "any". */
static void parse_class(parser_t *p, info_t *out)
{
    int negated = *p->at == '^';
    if (negated)
        p->at++;
    char chars[256];
    size_t count = 0;
    int any = negated, spaces_only = 1;
    for (int first = 1; *p->at && (first || *p->at != ']'); first = 0) {
        char c = *p->at++;
        if (c == '[' && *p->at == ':') {
            p->failed = 1; /* POSIX classes are not derived */
            return;
        }
        if (c == '\\') {
            char e = *p->at++;
            if (e == 's') {
                const char *space = " \t\n\v\f\r";
                for (const char *s = space; *s && count < sizeof chars; s++)
                    chars[count++] = *s;
                continue;
            }
            if (isalnum((unsigned char)e) || e == '\0') {
                any = 1; /* \d, \w, \x.. and the like */
                spaces_only = 0;
                continue;
            }
            c = e;
        }
        if ((unsigned char)c >= 0x80) {
            p->failed = 1;
            return;
        }
        if (*p->at == '-' && p->at[1] != ']' && p->at[1] != '\0') {
            any = 1; /* a range */
            spaces_only = 0;
            p->at += 2;
            continue;
        }
        if (count < sizeof chars)
            chars[count++] = (char)tolower((unsigned char)c);
    }
    if (*p->at != ']') {
        p->failed = 1;
        return;
    }
    p->at++;
    info_any(out);
    for (size_t i = 0; i < count; i++)
        if (!isspace((unsigned char)chars[i]))
            spaces_only = 0;
    out->is_space = !any && spaces_only && count > 0;
    if (any || negated || count > 8)
        return;
    out->exact.known = 1;
    for (size_t i = 0; i < count; i++)
        set_add(&out->exact, &chars[i], 1);
    out->prefix = out->exact;
}

/* Parses an escape after its backslash. */
static void parse_escape(parser_t *p, info_t *out)
{
    char e = *p->at++;
    switch (e) {
    case 's':
        info_any(out);
        out->is_space = 1;
        return;
    case 'S':
    case 'd':
    case 'D':
    case 'w':
    case 'W':
        info_any(out);
        return;
    case 'b':
    case 'B':
    case 'A':
    case 'z':
    case 'Z':
    case 'G':
        info_empty(out);
        return;
    default:
        if (e == '\0' || isalnum((unsigned char)e) ||
            (unsigned char)e >= 0x80) {
            p->failed = 1; /* \x, \p, back references and the like */
            return;
        }
        info_char(out, e);
    }
}

/* Parses one atom: a character, class, escape, group or assertion. */
static void parse_atom(parser_t *p, info_t *out)
{
    char c = *p->at++;
    switch (c) {
    case '(':
        if (*p->at == '?') {
            if (p->at[1] != ':') {
                p->failed = 1; /* lookarounds, options, named groups */
                return;
            }
            p->at += 2;
        }
        if (++p->depth > DEPTH_MAX) {
            p->failed = 1;
            return;
        }
        parse_alternation(p, out);
        p->depth--;
        if (*p->at != ')')
            p->failed = 1;
        else
            p->at++;
        return;
    case '[':
        parse_class(p, out);
        return;
    case '\\':
        parse_escape(p, out);
        return;
    case '.':
        info_any(out);
        return;
    case '^':
    case '$':
        info_empty(out);
        return;
    case '*':
    case '+':
    case '?':
    case '{':
    case ')':
    case '|':
        p->failed = 1;
        return;
    default:
        if ((unsigned char)c >= 0x80) {
            p->failed = 1;
            return;
        }
        info_char(out, (char)tolower((unsigned char)c));
    }
}

/* Applies a quantifier after an atom, if one follows. */
static void parse_quantifier(parser_t *p, info_t *atom)
{
    long min;
    char c = *p->at;
    if (c == '?' || c == '*') {
        min = 0;
        p->at++;
    } else if (c == '+') {
        min = 1;
        p->at++;
    } else if (c == '{' && isdigit((unsigned char)p->at[1])) {
        char *end;
        min = strtol(p->at + 1, &end, 10);
        long max = min;
        if (*end == ',')
            max = isdigit((unsigned char)end[1]) ? strtol(end + 1, &end, 10)
                                                 : (end++, -1);
        if (*end != '}') {
            p->failed = 1;
            return;
        }
        p->at = end + 1;
        if (min == 1 && max == 1) {
            if (*p->at == '?' || *p->at == '+')
                p->at++;
            return; /* {1}: the atom itself */
        }
    } else {
        return;
    }
    if (*p->at == '?' || *p->at == '+')
        p->at++; /* lazy or possessive: the same strings */

    if (c == '?' && atom->exact.known) {
        set_t empty;
        set_empty_string(&empty);
        set_t joined;
        if (set_union(&atom->exact, &empty, &joined) == 0)
            atom->exact = joined;
        else
            set_unknown(&atom->exact);
    } else {
        set_unknown(&atom->exact);
    }
    if (min == 0) {
        atom->space_star = atom->is_space;
        if (atom->prefix.known && !atom->skip_space)
            atom->optional = atom->prefix;
        set_unknown(&atom->prefix);
        atom->skip_space = 0;
    }
    atom->is_space = 0;
}

/* Returns the information of `a` followed by `rest`. */
static void concatenate(const info_t *a, const info_t *rest, info_t *out)
{
    info_any(out);
    if (a->exact.known && rest->exact.known &&
        set_product(&a->exact, &rest->exact, 0, &out->exact) != 0)
        set_unknown(&out->exact);

    if (a->exact.known) {
        if (a->exact.count == 1 && a->exact.len[0] == 0) {
            out->prefix = rest->prefix;
            out->skip_space = rest->skip_space;
        } else if (rest->prefix.known && !rest->skip_space &&
                   set_product(&a->exact, &rest->prefix, 1, &out->prefix) ==
                       0) {
            out->skip_space = 0;
        } else {
            out->prefix = a->exact;
            out->skip_space = 0;
        }
    } else if (a->space_star) {
        out->prefix = rest->prefix;
        out->skip_space = rest->prefix.known;
    } else if (a->optional.known && rest->prefix.known && !rest->skip_space) {
        /* A? B starts as A or, when A is skipped, as B. */
        if (set_union(&a->optional, &rest->prefix, &out->prefix) != 0)
            set_unknown(&out->prefix);
        out->skip_space = 0;
    } else {
        out->prefix = a->prefix;
        out->skip_space = a->skip_space;
    }
    prefix_normalise(&out->prefix);
}

/* Parses a sequence of quantified atoms up to "|", ")" or the end. */
static void parse_sequence(parser_t *p, info_t *out)
{
    enum { ATOMS_MAX = 64 };
    info_t *list = malloc(ATOMS_MAX * sizeof *list);
    size_t count = 0;
    int top = p->depth == 0;
    if (!list) {
        p->failed = 1;
        return;
    }
    while (*p->at && *p->at != '|' && *p->at != ')' && !p->failed) {
        if (count == ATOMS_MAX) {
            p->failed = 1;
            break;
        }
        if (top && count == 0 && *p->at == '^')
            p->anchored = 1;
        parse_atom(p, &list[count]);
        if (!p->failed)
            parse_quantifier(p, &list[count]);
        count++;
    }
    info_empty(out);
    for (size_t i = count; i-- > 0 && !p->failed;) {
        info_t joined;
        concatenate(&list[i], out, &joined);
        *out = joined;
    }
    free(list);
}

static info_t *parse_alternation(parser_t *p, info_t *out)
{
    int top = p->depth == 0;
    parse_sequence(p, out);
    while (!p->failed && *p->at == '|') {
        p->at++;
        if (top) {
            p->anchored = 0; /* "^a|b" is not anchored as a whole */
            p->alternation = 1;
        }
        info_t branch, joined;
        parse_sequence(p, &branch);
        if (p->failed)
            break;
        info_any(&joined);
        if (out->exact.known && branch.exact.known &&
            set_union(&out->exact, &branch.exact, &joined.exact) != 0)
            set_unknown(&joined.exact);
        if (out->prefix.known && branch.prefix.known &&
            set_union(&out->prefix, &branch.prefix, &joined.prefix) != 0)
            set_unknown(&joined.prefix);
        joined.skip_space = out->skip_space || branch.skip_space;
        *out = joined;
    }
    return out;
}

/* Loads up to 8 bytes at s[0, len) as a little-endian word. */
static uint64_t load_word(const char *s, size_t len)
{
    uint64_t value = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        value |= (uint64_t)(unsigned char)s[i] << (8 * i);
    return value;
}

/* Stores the prefixes of `info` as needles, cut to the bytes a needle
 * compares. */
static void add_needles(rule_filter_t *filter, const info_t *info, int anchored)
{
    filter->anchored = anchored;
    filter->skip_space = info->skip_space;
    for (size_t i = 0; i < info->prefix.count; i++) {
        size_t len = info->prefix.len[i] < NEEDLE_BYTES ? info->prefix.len[i]
                                                        : NEEDLE_BYTES;
        uint64_t mask = len == 8 ? UINT64_MAX : (1ULL << (8 * len)) - 1;
        uint64_t value = load_word(info->prefix.text[i], len);
        size_t k = 0;
        while (k < filter->needle_count &&
               !(filter->needles[k].value == value &&
                 filter->needles[k].mask == mask))
            k++;
        if (k < filter->needle_count)
            continue;
        filter->needles[k].value = value;
        filter->needles[k].mask = mask;
        filter->first[(unsigned char)info->prefix.text[i][0]] |= 1ULL << k;
        filter->needle_count++;
    }
    filter->usable = filter->needle_count > 0;
}

void rule_filter_build(const char *pattern, rule_filter_t *filter)
{
    parser_t p = {.at = pattern};
    memset(filter, 0, sizeof *filter);
    info_t *parsed = malloc(sizeof *parsed);
    if (!parsed)
        return; /* an unusable filter only costs speed */
    parse_alternation(&p, parsed);
    if (!p.failed && *p.at == '\0' && parsed->prefix.known)
        add_needles(filter, parsed, p.anchored);
    free(parsed);

    /* "\b" before a word character needs a character outside \w (ASCII
     * letters, digits and "_" without PCRE2_UCP) or the start before it. */
    filter->word_start = filter->usable && !filter->anchored &&
                         !p.alternation && strncmp(pattern, "\\b", 2) == 0;
    for (const char *c = " \t\n\v\f\r"; *c; c++)
        if (filter->first[(unsigned char)*c])
            filter->space_first = 1;
    for (size_t c = 0; c < 256 && filter->word_start; c++)
        if (filter->first[c] && !(c >= 'a' && c <= 'z') &&
            !(c >= '0' && c <= '9'))
            filter->word_start = 0;
}

/* Returns 1 when one of the needles in `candidates` starts at text[at]. */
static int needle_at(const rule_filter_t *filter, uint64_t candidates,
                     const char *text, size_t len, size_t at)
{
    uint64_t word;
    if (len - at >= 8)
        memcpy(&word, text + at, 8);
    else
        word = load_word(text + at, len - at);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    for (; candidates; candidates &= candidates - 1) {
        const rule_needle_t *n = &filter->needles[__builtin_ctzll(candidates)];
        if ((word & n->mask) == n->value)
            return 1;
    }
    return 0;
}

int rule_filter_pass_text(const rule_filter_t *filter, const rule_text_t *text)
{
    if (!filter->usable)
        return 1;
    if (filter->anchored && filter->skip_space && !filter->space_first) {
        /* Only the first byte that is not whitespace can start a match. */
        if (text->solid == text->len)
            return 0;
        uint64_t candidates =
            filter->first[(unsigned char)text->text[text->solid]];
        return candidates && needle_at(filter, candidates, text->text,
                                       text->len, text->solid);
    }
    if (!filter->word_start || !text->starts)
        return rule_filter_pass(filter, text->text, text->len);
    for (size_t i = 0; i < text->start_count; i++) {
        size_t at = text->starts[i];
        uint64_t candidates = filter->first[(unsigned char)text->text[at]];
        if (candidates &&
            needle_at(filter, candidates, text->text, text->len, at))
            return 1;
    }
    return 0;
}

int rule_filter_pass_at(const rule_filter_t *filter, const rule_text_t *text,
                        size_t at)
{
    uint64_t candidates = filter->first[(unsigned char)text->text[at]];
    return candidates &&
           needle_at(filter, candidates, text->text, text->len, at);
}

int rule_filter_pass(const rule_filter_t *filter, const char *text, size_t len)
{
    if (!filter->usable)
        return 1;
    if (filter->anchored) {
        /* PCRE2's \s without PCRE2_UCP: the ASCII whitespace. */
        for (size_t at = 0; at < len; at++) {
            uint64_t candidates = filter->first[(unsigned char)text[at]];
            if (candidates && needle_at(filter, candidates, text, len, at))
                return 1;
            if (!filter->skip_space || text[at] == '\0' ||
                !strchr(" \t\n\v\f\r", text[at]))
                return 0;
        }
        return 0;
    }
    for (size_t at = 0; at < len; at++) {
        uint64_t candidates = filter->first[(unsigned char)text[at]];
        if (candidates && needle_at(filter, candidates, text, len, at))
            return 1;
    }
    return 0;
}
