/* Validation of one kb entry against the file format: required fields per
 * type, value types, unknown keys, facet ids from lang/facets.json, url and
 * id syntax. Checks that span entries (duplicate ids, related ids, route
 * order) live in kb.c. */
#include "knowledge/kb_private.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Type bits for the `required` column below. */
#define T_INITIATIVE (1u << 0)
#define T_ORGANISATION (1u << 1)
#define T_PARTNER (1u << 2)
#define T_PRACTICE (1u << 3)
#define T_ROUTE_STEP (1u << 4)
#define T_CHECKLIST (1u << 5)
#define T_LINK (1u << 6)
#define T_ALL 0x7Fu

typedef enum {
    KIND_ID,
    KIND_TYPE,
    KIND_TEXT,    /* non-empty string */
    KIND_TEXTS,   /* array of non-empty strings */
    KIND_FACETS,  /* array of facet ids, empty only when facts are thin */
    KIND_FIT,     /* {"small": bool, "large": bool} */
    KIND_EFFORT,  /* hours and four texts */
    KIND_URL,     /* https://... or null */
    KIND_BOOL,    /* true or false */
    KIND_RELATED, /* array of ids, checked against all entries later */
    KIND_PARTNER, /* {"kind": ..., "dispatch": bool} */
    KIND_ORDER,   /* integer >= 1 */
    KIND_ITEMS,   /* checklist items */
    KIND_DIRECT   /* array of goal ids that the entry also lists */
} field_kind_t;

typedef struct {
    const char *name;
    field_kind_t kind;
    unsigned required; /* type bits that need the field */
    int facet;         /* for KIND_FACETS */
} field_t;

static const field_t fields[] = {
    {"id", KIND_ID, T_ALL, -1},
    {"type", KIND_TYPE, T_ALL, -1},
    {"title", KIND_TEXT, T_ALL, -1},
    {"aliases", KIND_TEXTS, 0, -1},
    {"summary", KIND_TEXT, T_ALL, -1},
    {"body", KIND_TEXT, T_ALL, -1},
    {"keywords", KIND_TEXTS, 0, -1},
    {"levels", KIND_FACETS, T_INITIATIVE, KB_FACET_LEVEL},
    {"regions", KIND_FACETS, T_INITIATIVE | T_ORGANISATION | T_PARTNER,
     KB_FACET_REGION},
    {"sectors", KIND_FACETS, T_INITIATIVE | T_PARTNER, KB_FACET_SECTOR},
    {"goals", KIND_FACETS, T_INITIATIVE | T_PRACTICE, KB_FACET_GOAL},
    {"fit", KIND_FIT, T_INITIATIVE, -1},
    {"effort", KIND_EFFORT, T_INITIATIVE, -1},
    {"guidance", KIND_TEXT, T_INITIATIVE, -1},
    {"benefits", KIND_TEXT, T_INITIATIVE, -1},
    {"how_to_join", KIND_TEXT, T_INITIATIVE, -1},
    {"organiser", KIND_TEXT, T_INITIATIVE, -1},
    {"url", KIND_URL, T_ALL, -1},
    {"facts_thin", KIND_BOOL, 0, -1},
    {"direct_goals", KIND_DIRECT, 0, KB_FACET_GOAL},
    {"related", KIND_RELATED, 0, -1},
    {"partner", KIND_PARTNER, T_PARTNER, -1},
    {"order", KIND_ORDER, T_ROUTE_STEP, -1},
    {"dos", KIND_TEXTS, T_ROUTE_STEP, -1},
    {"donts", KIND_TEXTS, T_ROUTE_STEP, -1},
    {"items", KIND_ITEMS, T_CHECKLIST, -1},
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])

static const char *const partner_kinds[] = {
    "sector-fund", "federation", "rtc", "pom", "vdab", "voka", "other"};

/* The state of validating one entry. */
typedef struct {
    const kb_facets_t *facets;
    const content_file_t *file;
    const char *base; /* pointer of the entry, "/entries/3" */
    content_errors_t *errs;
    int errors;
    int facts_thin; /* the entry sets "facts_thin": true */
} check_t;

static void fail(check_t *c, const char *suffix, const char *hint,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Adds an error at base + suffix ("/entries/3" + "/regions/1"). */
static void fail(check_t *c, const char *suffix, const char *hint,
                 const char *fmt, ...)
{
    char pointer[256], message[256];
    snprintf(pointer, sizeof pointer, "%s%s", c->base, suffix);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    content_error_at(c->errs, c->file, pointer, hint, "%s", message);
    c->errors++;
}

/* Returns 1 for a non-empty string that is not only white space. */
static int is_text(const json_t *value)
{
    const char *s = json_string_value(value);
    if (!s)
        return 0;
    for (; *s; s++)
        if (!strchr(" \t\r\n", *s))
            return 1;
    return 0;
}

static int is_id(const char *s, size_t len)
{
    if (len == 0 || len >= KB_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return 0;
    return 1;
}

/* Suggests the nearest of `names` to a misspelt `value` as a hint, or
 * falls back to `otherwise`. */
static void suggest(char *hint, size_t size, const char *value,
                    const char *const *names, size_t count,
                    const char *otherwise)
{
    char folded[128];
    nlu_fold(value, strlen(value), folded, sizeof folded);
    int best = 3;
    const char *nearest = NULL;
    for (size_t i = 0; i < count; i++) {
        int d = kb_edit_distance(folded, names[i], 2);
        if (d < best) {
            best = d;
            nearest = names[i];
        }
    }
    if (nearest)
        snprintf(hint, size, "write \"%s\"", nearest);
    else
        snprintf(hint, size, "%s", otherwise);
}

static void check_texts(check_t *c, const char *suffix, json_t *value)
{
    if (!json_is_array(value)) {
        fail(c, suffix, "write an array of strings, e.g. [\"...\"]",
             "\"%s\" must be an array of strings", suffix + 1);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        if (is_text(item))
            continue;
        char at[96];
        snprintf(at, sizeof at, "%s/%zu", suffix, i);
        fail(c, at, "write a non-empty string or remove the item",
             "item %zu of \"%s\" must be a non-empty string", i, suffix + 1);
    }
}

/* Checks an array of facet ids and records them in the item's bit set. */
static void check_facets(check_t *c, const char *suffix, json_t *value,
                         kb_facet_kind_t kind, kb_item_t *item)
{
    const kb_facet_t *facet = &c->facets->facets[kind];
    char list[512];
    kb_facet_list(c->facets, kind, list, sizeof list);
    /* An entry with thin facts may leave a facet empty: the value is
     * unknown, so no filter on that facet matches it. */
    int empty_allowed = c->facts_thin && json_is_array(value);
    if (!json_is_array(value) ||
        (json_array_size(value) == 0 && !empty_allowed)) {
        fail(c, suffix,
             "list at least one id from lang/facets.json, or write [] and "
             "set \"facts_thin\": true when the value is unknown",
             "\"%s\" must be a non-empty array of %s ids; expected ids: %s",
             suffix + 1, kb_facet_names[kind], list);
        return;
    }
    item->declared |= 1u << kind;
    size_t i;
    json_t *v;
    json_array_foreach(value, i, v)
    {
        char at[96];
        snprintf(at, sizeof at, "%s/%zu", suffix, i);
        const char *s = json_string_value(v);
        int index = s ? kb_facet_find(c->facets, kind, s) : -1;
        if (index >= 0) {
            if (!(item->sets[kind] & (1ull << index)))
                item->set_sizes[kind]++;
            item->sets[kind] |= 1ull << index;
            continue;
        }
        const char *names[KB_FACET_VALUES_MAX];
        for (size_t n = 0; n < facet->count; n++)
            names[n] = facet->values[n].value;
        char hint[160];
        suggest(hint, sizeof hint, s ? s : "", names, facet->count,
                "use an id from lang/facets.json");
        if (s)
            fail(c, at, hint, "unknown %s \"%s\"; expected one of %s",
                 kb_facet_names[kind], s, list);
        else
            fail(c, at, hint, "%s must be a string; expected one of %s",
                 kb_facet_names[kind], list);
    }
}

static void check_fit(check_t *c, json_t *value, kb_item_t *item)
{
    if (!json_is_object(value)) {
        fail(c, "/fit", "write {\"small\": true, \"large\": true}",
             "\"fit\" must be an object");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v)
    {
        char at[64];
        snprintf(at, sizeof at, "/fit/%s", key);
        if (strcmp(key, "small") != 0 && strcmp(key, "large") != 0)
            fail(c, at, "remove it; fit has only \"small\" and \"large\"",
                 "unknown key \"%s\" in \"fit\"", key);
    }
    json_t *small = json_object_get(value, "small");
    json_t *large = json_object_get(value, "large");
    if (!json_is_boolean(small))
        fail(c, "/fit", "write \"small\": true or false",
             "\"fit.small\" must be true or false");
    if (!json_is_boolean(large))
        fail(c, "/fit", "write \"large\": true or false",
             "\"fit.large\" must be true or false");
    item->has_fit = 1;
    item->fit_small = json_is_true(small);
    item->fit_large = json_is_true(large);
}

static void check_effort(check_t *c, json_t *value, kb_item_t *item)
{
    static const char *const texts[] = {"basis", "money", "people", "place"};
    if (!json_is_object(value)) {
        fail(c, "/effort",
             "write {\"hours_per_year\": ..., \"basis\": ..., \"money\": "
             "..., \"people\": ..., \"place\": ...}",
             "\"effort\" must be an object");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v)
    {
        int known = strcmp(key, "hours_per_year") == 0;
        for (size_t i = 0; i < 4; i++)
            known |= strcmp(key, texts[i]) == 0;
        if (known)
            continue;
        char at[96];
        snprintf(at, sizeof at, "/effort/%s", key);
        fail(c, at,
             "remove it; effort has hours_per_year, basis, money, people "
             "and place",
             "unknown key \"%s\" in \"effort\"", key);
    }

    item->has_effort = 1;
    json_t *hours = json_object_get(value, "hours_per_year");
    if (!hours) {
        fail(c, "/effort",
             "write \"hours_per_year\": an estimate, or null when unknown",
             "\"effort\" is missing \"hours_per_year\"");
    } else if (json_is_number(hours) && json_number_value(hours) >= 0 &&
               isfinite(json_number_value(hours))) {
        item->hours_known = 1;
        item->hours_per_year = json_number_value(hours);
    } else if (!json_is_null(hours)) {
        fail(c, "/effort/hours_per_year",
             "write a number of hours (0 or more), or null when unknown",
             "\"hours_per_year\" must be a number of hours or null");
    }
    for (size_t i = 0; i < 4; i++) {
        char at[64];
        snprintf(at, sizeof at, "/effort/%s", texts[i]);
        json_t *text = json_object_get(value, texts[i]);
        if (!text)
            fail(c, "/effort", "add it as a Dutch sentence",
                 "\"effort\" is missing \"%s\"", texts[i]);
        else if (!is_text(text))
            fail(c, at, "write a non-empty Dutch sentence",
                 "\"effort.%s\" must be a non-empty string", texts[i]);
    }
}

static void check_url(check_t *c, json_t *value, kb_item_t *item)
{
    if (json_is_null(value))
        return;
    const char *s = json_string_value(value);
    int valid = s && strncmp(s, "https://", 8) == 0 && s[8] != '\0' &&
                s[8] != '/' && strlen(s) < 256;
    for (const char *p = s; valid && *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>')
            valid = 0;
    if (!valid) {
        fail(c, "/url",
             "write the full address starting with https://, or null when "
             "unknown",
             "invalid url \"%s\"", s ? s : "(not a string)");
        return;
    }
    item->url = s;
}

static void check_partner(check_t *c, json_t *value)
{
    char kinds[160] = "";
    for (size_t i = 0; i < sizeof partner_kinds / sizeof *partner_kinds; i++)
        snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s",
                 i ? ", " : "", partner_kinds[i]);
    if (!json_is_object(value)) {
        fail(c, "/partner",
             "write {\"kind\": \"sector-fund\", \"dispatch\": false}",
             "\"partner\" must be an object");
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v)
    {
        if (strcmp(key, "kind") == 0 || strcmp(key, "dispatch") == 0)
            continue;
        char at[96];
        snprintf(at, sizeof at, "/partner/%s", key);
        fail(c, at, "remove it; partner has only \"kind\" and \"dispatch\"",
             "unknown key \"%s\" in \"partner\"", key);
    }
    const char *kind = json_string_value(json_object_get(value, "kind"));
    int known = 0;
    for (size_t i = 0; kind && i < sizeof partner_kinds / sizeof *partner_kinds;
         i++)
        known |= strcmp(kind, partner_kinds[i]) == 0;
    if (!known) {
        char hint[160];
        suggest(hint, sizeof hint, kind ? kind : "", partner_kinds,
                sizeof partner_kinds / sizeof *partner_kinds,
                "use one of the listed kinds");
        fail(c, json_object_get(value, "kind") ? "/partner/kind" : "/partner",
             hint, "unknown partner kind \"%s\"; expected one of %s",
             kind ? kind : "", kinds);
    }
    if (!json_is_boolean(json_object_get(value, "dispatch")))
        fail(c, "/partner", "write \"dispatch\": true or false",
             "\"partner.dispatch\" must be true or false");
}

static void check_items(check_t *c, json_t *value, kb_item_t *item)
{
    if (!json_is_array(value) || json_array_size(value) == 0) {
        fail(c, "/items", "write [{\"text\": \"...\"}, ...]",
             "\"items\" must be a non-empty array of objects");
        return;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(value, i, entry)
    {
        char at[96];
        snprintf(at, sizeof at, "/items/%zu", i);
        if (!json_is_object(entry) ||
            !is_text(json_object_get(entry, "text"))) {
            fail(c, at, "write {\"text\": \"...\"} with a Dutch sentence",
                 "checklist item %zu needs a non-empty \"text\"", i);
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach(entry, key, v)
        {
            if (strcmp(key, "text") == 0 || strcmp(key, "goals") == 0)
                continue;
            char key_at[128];
            snprintf(key_at, sizeof key_at, "%s/%s", at, key);
            fail(c, key_at, "remove it; an item has \"text\" and \"goals\"",
                 "unknown key \"%s\" in checklist item", key);
        }
        json_t *goals = json_object_get(entry, "goals");
        if (goals) {
            /* Item goals are checked but do not make the entry's facets. */
            kb_item_t scratch = {0};
            char goals_at[128];
            snprintf(goals_at, sizeof goals_at, "%s/goals", at);
            int facts_thin = c->facts_thin;
            c->facts_thin = 0; /* an item lists goals or omits them */
            check_facets(c, goals_at, goals, KB_FACET_GOAL, &scratch);
            c->facts_thin = facts_thin;
        }
    }
    (void)item;
}

/* "direct_goals": goals of the entry's own "goals" that it serves
 * directly (duaal leren recruits), ranked above the other entries for
 * that goal. The field comes after "goals" in the field table. */
static void check_direct_goals(check_t *c, json_t *value, kb_item_t *item)
{
    kb_item_t scratch = {0};
    int facts_thin = c->facts_thin;
    c->facts_thin = 0; /* an empty list marks no facts as missing */
    check_facets(c, "/direct_goals", value, KB_FACET_GOAL, &scratch);
    c->facts_thin = facts_thin;
    if (scratch.sets[KB_FACET_GOAL] & ~item->sets[KB_FACET_GOAL])
        fail(c, "/direct_goals", "list only goals that \"goals\" lists too",
             "\"direct_goals\" names a goal that \"goals\" does not list");
    item->direct_goals = scratch.sets[KB_FACET_GOAL];
}

static void check_field(check_t *c, const field_t *field, json_t *value,
                        kb_item_t *item)
{
    char suffix[64];
    snprintf(suffix, sizeof suffix, "/%s", field->name);
    switch (field->kind) {
    case KIND_ID:
    case KIND_TYPE:
        break; /* checked first, in kb_validate_entry */
    case KIND_TEXT:
        if (!is_text(value))
            fail(c, suffix, "write a non-empty Dutch text",
                 "\"%s\" must be a non-empty string", field->name);
        break;
    case KIND_TEXTS:
        check_texts(c, suffix, value);
        break;
    case KIND_FACETS:
        check_facets(c, suffix, value, (kb_facet_kind_t)field->facet, item);
        break;
    case KIND_FIT:
        check_fit(c, value, item);
        break;
    case KIND_EFFORT:
        check_effort(c, value, item);
        break;
    case KIND_URL:
        check_url(c, value, item);
        break;
    case KIND_BOOL:
        if (!json_is_boolean(value))
            fail(c, suffix, "write true or false",
                 "\"%s\" must be true or false", field->name);
        else
            item->facts_thin = json_is_true(value);
        break;
    case KIND_RELATED:
        if (!json_is_array(value))
            fail(c, suffix, "write an array of entry ids",
                 "\"related\" must be an array of ids");
        break; /* the ids themselves are checked once all files are read */
    case KIND_PARTNER:
        check_partner(c, value);
        break;
    case KIND_DIRECT:
        check_direct_goals(c, value, item);
        break;
    case KIND_ORDER:
        if (!json_is_integer(value) || json_integer_value(value) < 1)
            fail(c, suffix, "write a whole number: 1 for the first step",
                 "\"order\" must be a whole number of 1 or more");
        else
            item->order = (long)json_integer_value(value);
        break;
    case KIND_ITEMS:
        check_items(c, value, item);
        break;
    }
}

/* Checks "id" and "type" and fills them in. */
static void check_identity(check_t *c, json_t *entry, kb_item_t *item)
{
    json_t *id = json_object_get(entry, "id");
    const char *s = json_string_value(id);
    if (!id)
        fail(c, "", "add \"id\": a unique name of a-z, 0-9 and -",
             "entry is missing \"id\"");
    else if (!s || !is_id(s, json_string_length(id)))
        fail(c, "/id",
             "use only a-z, 0-9 and -, at most 63 characters, e.g. "
             "\"techniek-academie\"",
             "invalid id \"%s\"", s ? s : "(not a string)");
    else
        item->id = s;

    json_t *type = json_object_get(entry, "type");
    const char *t = json_string_value(type);
    item->type = kb_type_find(t);
    if (!type) {
        fail(c, "", "add \"type\", e.g. \"initiative\"",
             "entry is missing \"type\"");
    } else if (item->type < 0) {
        char hint[160];
        suggest(hint, sizeof hint, t ? t : "", kb_type_names, KB_TYPE_COUNT,
                "use one of the listed types");
        fail(c, "/type", hint,
             "unknown type \"%s\"; expected one of initiative, "
             "organisation, partner, practice, route-step, checklist, link",
             t ? t : "(not a string)");
    }
}

static void check_unknown_keys(check_t *c, json_t *entry)
{
    const char *names[FIELD_COUNT];
    for (size_t i = 0; i < FIELD_COUNT; i++)
        names[i] = fields[i].name;
    const char *key;
    json_t *value;
    json_object_foreach(entry, key, value)
    {
        size_t i = 0;
        while (i < FIELD_COUNT && strcmp(fields[i].name, key) != 0)
            i++;
        if (i < FIELD_COUNT)
            continue;
        char hint[160], at[160];
        suggest(hint, sizeof hint, key, names, FIELD_COUNT,
                "remove it; see the field list of the kb file format");
        snprintf(at, sizeof at, "/%s", key);
        fail(c, at, hint, "unknown key \"%s\"", key);
    }
}

int kb_validate_entry(const kb_facets_t *facets, const content_file_t *file,
                      const char *pointer, json_t *entry, kb_item_t *item,
                      content_errors_t *errs)
{
    check_t c = {facets, file, pointer, errs, 0, 0};
    memset(item, 0, sizeof *item);
    item->order = LONG_MAX;
    item->type = -1;
    if (!json_is_object(entry)) {
        fail(&c, "", "write each entry as an object {\"id\": ..., ...}",
             "entry must be an object");
        return c.errors;
    }

    check_identity(&c, entry, item);
    c.facts_thin = json_is_true(json_object_get(entry, "facts_thin"));
    check_unknown_keys(&c, entry);
    unsigned type_bit = item->type >= 0 ? 1u << item->type : 0;
    for (size_t i = 2; i < FIELD_COUNT; i++) {
        const field_t *field = &fields[i];
        json_t *value = json_object_get(entry, field->name);
        if (value) {
            check_field(&c, field, value, item);
        } else if (field->required & type_bit) {
            fail(&c, "", "add it; see the field list of the kb file format",
                 "%s \"%s\" is missing \"%s\"", kb_type_names[item->type],
                 item->id ? item->id : "", field->name);
        }
    }

    item->title = json_string_value(json_object_get(entry, "title"));
    item->summary = json_string_value(json_object_get(entry, "summary"));
    return c.errors;
}
