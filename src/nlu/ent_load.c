/* Loading the language data of lang/: facets.json (the canonical ids),
 * synonyms.json, cues.json, numbers.json, quantities.json, places.json and
 * common.json. Format: docs/nlu.md, "Entities and language data". */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/ent_lang.h"
#include "nlu/text.h"

#define FACET_KINDS 5

/* The facet kinds of lang/facets.json that entities use. */
static const struct {
    const char *name;
    nlu_entity_kind_t kind;
} facet_kinds[FACET_KINDS] = {
    {"level", NLU_ENT_LEVEL},   {"region", NLU_ENT_REGION},
    {"sector", NLU_ENT_SECTOR}, {"size", NLU_ENT_SIZE},
    {"goal", NLU_ENT_GOAL},
};

/* A loading pass: the files, the error list and the facet ids. */
typedef struct {
    nlu_lang_t *lang;
    content_errors_t *errs;
    const char *dir;
    json_t *facets; /* facets.json root, borrowed from its file */
    int failed;
} loader_t;

static uint64_t hash_key(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int rehash(nlu_lang_t *lang, size_t bucket_count)
{
    size_t *buckets = malloc(bucket_count * sizeof *buckets);
    if (!buckets)
        return -1;
    for (size_t i = 0; i < bucket_count; i++)
        buckets[i] = SIZE_MAX;
    for (size_t i = 0; i < lang->item_count; i++) {
        ent_item_t *item = &lang->items[i];
        size_t b = hash_key(item->key, strlen(item->key)) % bucket_count;
        item->next = buckets[b];
        buckets[b] = i;
    }
    free(lang->buckets);
    lang->buckets = buckets;
    lang->bucket_count = bucket_count;
    return 0;
}

/* Copies the key; the language data owns the copy. */
int ent_lang_add(nlu_lang_t *lang, const char *key, const ent_entry_t *entry)
{
    if (lang->item_count == lang->item_cap) {
        size_t cap = lang->item_cap ? lang->item_cap * 2 : 1024;
        ent_item_t *grown = realloc(lang->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        lang->items = grown;
        lang->item_cap = cap;
    }
    if (lang->item_count + 1 > lang->bucket_count &&
        rehash(lang, lang->bucket_count ? lang->bucket_count * 2 : 2048))
        return -1;
    char *copy = strdup(key);
    if (!copy)
        return -1;
    size_t tokens = 1;
    for (const char *c = key; *c; c++)
        tokens += *c == ' ';
    if (tokens > lang->role_tokens[entry->role])
        lang->role_tokens[entry->role] = tokens;
    size_t index = lang->item_count++;
    ent_item_t *item = &lang->items[index];
    item->key = copy;
    item->entry = *entry;
    size_t b = hash_key(key, strlen(key)) % lang->bucket_count;
    item->next = lang->buckets[b];
    lang->buckets[b] = index;
    return 0;
}

const ent_item_t *ent_lang_find(const nlu_lang_t *lang, const char *key,
                                size_t len)
{
    if (lang->bucket_count == 0)
        return NULL;
    size_t b = hash_key(key, len) % lang->bucket_count;
    for (size_t i = lang->buckets[b]; i != SIZE_MAX; i = lang->items[i].next) {
        const char *k = lang->items[i].key;
        if (strncmp(k, key, len) == 0 && k[len] == '\0')
            return &lang->items[i];
    }
    return NULL;
}

size_t ent_phrase_key(const char *phrase, char *key, size_t size)
{
    ent_token_t tokens[ENT_PHRASE_TOKENS + 1];
    size_t n =
        ent_tokens(phrase, strlen(phrase), tokens, ENT_PHRASE_TOKENS + 1);
    if (n == 0 || n > ENT_PHRASE_TOKENS)
        return 0;
    size_t used = 0;
    key[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(key + used, size - used, "%s%s", i ? " " : "",
                         tokens[i].folded);
        if (w < 0 || (size_t)w >= size - used)
            return 0;
        used += (size_t)w;
    }
    return n;
}

/* Adds every token of a key to `lexicon`, or, when it is NULL, to the
 * lexicon of the language data that `flag` names (see ent_lang_add_word). */
static int add_key_words(nlu_lang_t *lang, nlu_lexicon_t *lexicon, int flag,
                         const char *key)
{
    char word[64];
    while (*key) {
        size_t len = strcspn(key, " ");
        if (len > 0 && len < sizeof word) {
            memcpy(word, key, len);
            word[len] = '\0';
            int rc = lexicon ? nlu_lexicon_add(lexicon, word)
                             : ent_lang_add_word(lang, word, flag);
            if (rc != 0)
                return -1;
        }
        key += len;
        while (*key == ' ')
            key++;
    }
    return 0;
}

static void out_of_memory(loader_t *ld, const content_file_t *file)
{
    content_errors_add(ld->errs, file->path, 0, 0, NULL, "out of memory");
    ld->failed = 1;
}

/* Adds one phrase at `pointer` with its entry; words go to the place
 * lexicon for places and to the word lexicon otherwise. */
static void add_phrase(loader_t *ld, const content_file_t *file,
                       const char *pointer, json_t *value,
                       const ent_entry_t *entry)
{
    char key[ENT_KEY_MAX];
    if (!json_is_string(value)) {
        content_error_at(ld->errs, file, pointer,
                         "write the phrase as a string in double quotes",
                         "expected a string");
        ld->failed = 1;
        return;
    }
    if (ent_phrase_key(json_string_value(value), key, sizeof key) == 0) {
        content_error_at(ld->errs, file, pointer,
                         "use 1 to 6 words of letters or digits",
                         "invalid phrase \"%s\"", json_string_value(value));
        ld->failed = 1;
        return;
    }
    int flag = entry->role == ENT_ROLE_PLACE ? ENT_WORD_PLACE : ENT_WORD_KNOWN;
    if (ent_lang_add(ld->lang, key, entry) != 0 ||
        add_key_words(ld->lang, NULL, flag, key) != 0)
        out_of_memory(ld, file);
}

/* Adds every string of the array at `pointer` with the same entry. */
static void add_phrase_array(loader_t *ld, const content_file_t *file,
                             const char *pointer, json_t *array,
                             const ent_entry_t *entry)
{
    char at[512 + 24]; /* callers build pointers of up to 511 bytes */
    if (!json_is_array(array)) {
        content_error_at(ld->errs, file, pointer,
                         "write a list of phrases: [\"...\", \"...\"]",
                         "expected an array");
        ld->failed = 1;
        return;
    }
    size_t i;
    json_t *value;
    json_array_foreach(array, i, value)
    {
        snprintf(at, sizeof at, "%s/%zu", pointer, i);
        add_phrase(ld, file, at, value, entry);
    }
}

/* Adds every "phrase": number pair of the object at `pointer`. */
static void add_phrase_numbers(loader_t *ld, const content_file_t *file,
                               const char *pointer, json_t *object,
                               ent_role_t role)
{
    char at[512];
    if (!json_is_object(object)) {
        content_error_at(ld->errs, file, pointer,
                         "write an object of \"phrase\": number pairs",
                         "expected an object");
        ld->failed = 1;
        return;
    }
    const char *name;
    json_t *value;
    json_object_foreach(object, name, value)
    {
        snprintf(at, sizeof at, "%s/%s", pointer, name);
        if (!json_is_number(value)) {
            content_error_at(ld->errs, file, at, "write a number such as 8",
                             "expected a number for \"%s\"", name);
            ld->failed = 1;
            continue;
        }
        ent_entry_t entry = {.role = role, .number = json_number_value(value)};
        json_t *phrase = json_string(name);
        if (!phrase) {
            out_of_memory(ld, file);
            continue;
        }
        add_phrase(ld, file, at, phrase, &entry);
        json_decref(phrase);
    }
}

/* Returns 1 when `id` is a value of the facet kind `kind` in
 * facets.json. */
static int facet_has(const loader_t *ld, const char *kind, const char *id)
{
    json_t *list = json_object_get(ld->facets, kind);
    size_t i;
    json_t *facet;
    json_array_foreach(list, i, facet)
    {
        const char *value = json_string_value(json_object_get(facet, "value"));
        if (value && strcmp(value, id) == 0)
            return 1;
    }
    return 0;
}

/* Checks a facet id and reports an unknown one at `pointer`. */
static int check_facet(loader_t *ld, const content_file_t *file,
                       const char *pointer, const char *kind, const char *id)
{
    if (facet_has(ld, kind, id))
        return 0;
    char hint[256];
    size_t used = (size_t)snprintf(hint, sizeof hint, "use one of:");
    json_t *list = json_object_get(ld->facets, kind);
    size_t i;
    json_t *facet;
    json_array_foreach(list, i, facet)
    {
        const char *value = json_string_value(json_object_get(facet, "value"));
        if (value && used < sizeof hint)
            used +=
                (size_t)snprintf(hint + used, sizeof hint - used, " %s", value);
    }
    content_error_at(ld->errs, file, pointer, hint,
                     "unknown %s id \"%s\" (not in facets.json)", kind, id);
    ld->failed = 1;
    return -1;
}

/* Opens lang_dir/name, or reports the missing file. */
static int open_file(loader_t *ld, const char *name, content_file_t *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ld->dir, name);
    if (content_file_load(path, file, ld->errs) != 0) {
        ld->failed = 1;
        return -1;
    }
    if (!json_is_object(file->root)) {
        content_error_at(ld->errs, file, "", "wrap the file in { ... }",
                         "expected a JSON object");
        ld->failed = 1;
        content_file_free(file);
        return -1;
    }
    return 0;
}

/* Returns the index in facet_kinds of the top-level key `kind_name` of
 * synonyms.json or cues.json, whose value `ids` must be an object, and
 * writes its JSON pointer to `at`. Reports an error and returns -1
 * otherwise. */
static int facet_kind_of(loader_t *ld, const content_file_t *file,
                         const char *kind_name, const json_t *ids, char *at,
                         size_t size)
{
    int k = -1;
    for (int i = 0; i < FACET_KINDS; i++)
        if (strcmp(facet_kinds[i].name, kind_name) == 0)
            k = i;
    snprintf(at, size, "/%s", kind_name);
    if (k < 0 || !json_is_object(ids)) {
        content_error_at(ld->errs, file, at,
                         "use an object under one of: level, region, "
                         "sector, size, goal",
                         "unknown or invalid kind \"%s\"", kind_name);
        ld->failed = 1;
        return -1;
    }
    return k;
}

/* synonyms.json: {"<kind>": {"<facet id>": ["phrase", ...]}}. */
static void load_synonyms(loader_t *ld)
{
    content_file_t file;
    if (open_file(ld, "synonyms.json", &file) != 0)
        return;
    const char *kind_name;
    json_t *ids;
    json_object_foreach(file.root, kind_name, ids)
    {
        char at[512];
        int k = facet_kind_of(ld, &file, kind_name, ids, at, sizeof at);
        if (k < 0)
            continue;
        const char *id;
        json_t *phrases;
        json_object_foreach(ids, id, phrases)
        {
            snprintf(at, sizeof at, "/%s/%s", kind_name, id);
            if (check_facet(ld, &file, at, kind_name, id) != 0)
                continue;
            ent_entry_t entry = {.role = ENT_ROLE_SYNONYM,
                                 .kind = facet_kinds[k].kind};
            snprintf(entry.value, sizeof entry.value, "%s", id);
            add_phrase_array(ld, &file, at, phrases, &entry);
        }
    }
    content_file_free(&file);
}

/* cues.json: {"<kind>": {"<facet id>": {"cues": [...], "words": [...]}}}
 * and an optional "note". A cue gives the entity only in a message that
 * also contains one of the words: "zoeken" with "lassers" is the goal
 * talent. */
static void load_cues(loader_t *ld)
{
    content_file_t file;
    if (open_file(ld, "cues.json", &file) != 0)
        return;
    const char *kind_name;
    json_t *ids;
    json_object_foreach(file.root, kind_name, ids)
    {
        if (strcmp(kind_name, "note") == 0 && json_is_string(ids))
            continue;
        char at[512];
        int k = facet_kind_of(ld, &file, kind_name, ids, at, sizeof at);
        if (k < 0)
            continue;
        const char *id;
        json_t *pair;
        json_object_foreach(ids, id, pair)
        {
            snprintf(at, sizeof at, "/%s/%s", kind_name, id);
            if (check_facet(ld, &file, at, kind_name, id) != 0)
                continue;
            json_t *cues = json_object_get(pair, "cues");
            json_t *words = json_object_get(pair, "words");
            if (!json_is_object(pair) || json_object_size(pair) != 2 ||
                !json_is_array(cues) || !json_is_array(words)) {
                content_error_at(ld->errs, &file, at,
                                 "write {\"cues\": [\"zoeken\"], "
                                 "\"words\": [\"lassers\"]}",
                                 "expected an object with cues and words");
                ld->failed = 1;
                continue;
            }
            ent_entry_t entry = {.role = ENT_ROLE_CUE,
                                 .kind = facet_kinds[k].kind};
            snprintf(entry.value, sizeof entry.value, "%s", id);
            char list_at[512 + 8];
            snprintf(list_at, sizeof list_at, "%s/cues", at);
            add_phrase_array(ld, &file, list_at, cues, &entry);
            entry.role = ENT_ROLE_CUE_WORD;
            snprintf(list_at, sizeof list_at, "%s/words", at);
            add_phrase_array(ld, &file, list_at, words, &entry);
        }
    }
    content_file_free(&file);
}

/* Appends a number word to the single-token table. */
static void add_number_word(loader_t *ld, const content_file_t *file,
                            const char *word, ent_role_t role, double value)
{
    nlu_lang_t *lang = ld->lang;
    ent_item_t *grown =
        realloc(lang->numbers, (lang->number_count + 1) * sizeof *grown);
    char *copy = strdup(word);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            lang->numbers = grown;
        out_of_memory(ld, file);
        return;
    }
    lang->numbers = grown;
    ent_item_t *item = &lang->numbers[lang->number_count++];
    memset(item, 0, sizeof *item);
    item->key = copy;
    item->entry.role = role;
    item->entry.number = value;
    if (ent_lang_add_word(lang, word, ENT_WORD_KNOWN) != 0)
        out_of_memory(ld, file);
}

/* Loads an object of "word": number pairs into the number word table with
 * the role as its tag: SYNONYM for whole words, PERIOD for units (1-9),
 * TIME_UNIT for tens and RANGE for multipliers. */
static void load_number_table(loader_t *ld, const content_file_t *file,
                              const char *name, ent_role_t tag)
{
    char at[256];
    json_t *object = json_object_get(file->root, name);
    snprintf(at, sizeof at, "/%s", name);
    if (!json_is_object(object)) {
        content_error_at(ld->errs, file, at,
                         "write an object of \"word\": number pairs",
                         "missing or invalid \"%s\"", name);
        ld->failed = 1;
        return;
    }
    const char *word;
    json_t *value;
    json_object_foreach(object, word, value)
    {
        snprintf(at, sizeof at, "/%s/%s", name, word);
        char folded[64];
        nlu_fold(word, strlen(word), folded, sizeof folded);
        if (!json_is_number(value) || strchr(folded, ' ')) {
            content_error_at(ld->errs, file, at,
                             "write one word and a number, as \"twee\": 2",
                             "invalid number word \"%s\"", word);
            ld->failed = 1;
            continue;
        }
        add_number_word(ld, file, folded, tag, json_number_value(value));
    }
}

/* numbers.json: words, units, tens, multipliers, suffixes, articles,
 * phrases. */
static void load_numbers(loader_t *ld)
{
    content_file_t file;
    if (open_file(ld, "numbers.json", &file) != 0)
        return;
    load_number_table(ld, &file, "words", ENT_ROLE_SYNONYM);
    load_number_table(ld, &file, "units", ENT_ROLE_PERIOD);
    load_number_table(ld, &file, "tens", ENT_ROLE_TIME_UNIT);
    load_number_table(ld, &file, "multipliers", ENT_ROLE_RANGE);

    json_t *suffixes = json_object_get(file.root, "suffixes");
    size_t i;
    json_t *value;
    json_array_foreach(suffixes, i, value)
    {
        void *grown =
            realloc(ld->lang->suffixes,
                    (ld->lang->suffix_count + 1) * sizeof *ld->lang->suffixes);
        if (!grown) {
            out_of_memory(ld, &file);
            break;
        }
        ld->lang->suffixes = grown;
        snprintf(ld->lang->suffixes[ld->lang->suffix_count++],
                 sizeof *ld->lang->suffixes, "%s",
                 json_is_string(value) ? json_string_value(value) : "");
    }
    ent_entry_t suffix = {.role = ENT_ROLE_NUMBER_SUFFIX};
    add_phrase_array(ld, &file, "/suffixes", suffixes, &suffix);
    ent_entry_t article = {.role = ENT_ROLE_ARTICLE, .number = 1};
    add_phrase_array(ld, &file, "/articles",
                     json_object_get(file.root, "articles"), &article);

    json_t *phrases = json_object_get(file.root, "phrases");
    json_array_foreach(phrases, i, value)
    {
        char at[64];
        snprintf(at, sizeof at, "/phrases/%zu", i);
        json_t *text = json_object_get(value, "text");
        json_t *number = json_object_get(value, "value");
        if (!json_is_string(text) || !json_is_number(number)) {
            content_error_at(ld->errs, &file, at,
                             "write {\"text\": \"een paar\", \"value\": 3}",
                             "invalid number phrase");
            ld->failed = 1;
            continue;
        }
        ent_entry_t entry = {.role = ENT_ROLE_NUMBER_PHRASE,
                             .number = json_number_value(number)};
        snprintf(at, sizeof at, "/phrases/%zu/text", i);
        add_phrase(ld, &file, at, text, &entry);
    }
    content_file_free(&file);
}

/* Loads [{"from": a, "to": b, "<field>": id}] into `ranges`, checking each
 * id against the facet kind (an empty id is allowed when allow_empty). */
static void load_ranges(loader_t *ld, const content_file_t *file,
                        const char *name, const char *field, const char *kind,
                        int allow_empty, ent_ranges_t *ranges)
{
    char at[256];
    json_t *array = json_object_get(file->root, name);
    snprintf(at, sizeof at, "/%s", name);
    if (!json_is_array(array) || json_array_size(array) == 0) {
        content_error_at(ld->errs, file, at,
                         "write a list of {\"from\", \"to\", ...} objects",
                         "missing or empty \"%s\"", name);
        ld->failed = 1;
        return;
    }
    ranges->items = calloc(json_array_size(array), sizeof *ranges->items);
    if (!ranges->items) {
        out_of_memory(ld, file);
        return;
    }
    size_t i;
    json_t *value;
    json_array_foreach(array, i, value)
    {
        snprintf(at, sizeof at, "/%s/%zu", name, i);
        json_t *from = json_object_get(value, "from");
        json_t *to = json_object_get(value, "to");
        const char *id = json_string_value(json_object_get(value, field));
        if (!json_is_number(from) || !json_is_number(to) || !id ||
            json_number_value(from) > json_number_value(to)) {
            content_error_at(ld->errs, file, at,
                             "write {\"from\": 1, \"to\": 49, ...} with "
                             "from <= to and the facet id",
                             "invalid %s range", field);
            ld->failed = 1;
            continue;
        }
        snprintf(at, sizeof at, "/%s/%zu/%s", name, i, field);
        if (!(allow_empty && id[0] == '\0') &&
            check_facet(ld, file, at, kind, id) != 0)
            continue;
        ent_range_t *r = &ranges->items[ranges->count++];
        r->from = json_number_value(from);
        r->to = json_number_value(to);
        snprintf(r->value, sizeof r->value, "%s", id);
    }
}

/* quantities.json: time units and periods, staff counts, ages. */
static void load_quantities(loader_t *ld)
{
    content_file_t file;
    if (open_file(ld, "quantities.json", &file) != 0)
        return;
    json_t *root = file.root;
    add_phrase_numbers(ld, &file, "/time_units",
                       json_object_get(root, "time_units"), ENT_ROLE_TIME_UNIT);
    add_phrase_numbers(ld, &file, "/periods", json_object_get(root, "periods"),
                       ENT_ROLE_PERIOD);
    add_phrase_numbers(ld, &file, "/period_words",
                       json_object_get(root, "period_words"),
                       ENT_ROLE_PERIOD_WORD);
    add_phrase_numbers(ld, &file, "/period_adverbs",
                       json_object_get(root, "period_adverbs"),
                       ENT_ROLE_PERIOD_ADVERB);

    static const struct {
        const char *name;
        ent_role_t role;
        int flags;
    } lists[] = {
        {"times", ENT_ROLE_TIMES, 0},
        {"employee_words", ENT_ROLE_EMPLOYEE, 0},
        {"employee_prefixes", ENT_ROLE_EMPLOYEE_INTRO, 0},
        {"age_nouns", ENT_ROLE_AGE_NOUN, 0},
        {"age_before", ENT_ROLE_AGE_BEFORE, 0},
        {"age_after", ENT_ROLE_AGE_AFTER, 0},
        {"age_strong", ENT_ROLE_AGE_AFTER, ENT_AGE_STRONG},
        {"age_open_end", ENT_ROLE_AGE_AFTER, ENT_AGE_STRONG | ENT_AGE_OPEN_END},
        {"range_words", ENT_ROLE_RANGE, 0},
    };
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        char at[64];
        snprintf(at, sizeof at, "/%s", lists[i].name);
        ent_entry_t entry = {.role = lists[i].role, .flags = lists[i].flags};
        add_phrase_array(ld, &file, at, json_object_get(root, lists[i].name),
                         &entry);
    }

    json_t *vague = json_object_get(root, "vague_time");
    size_t i;
    json_t *value;
    json_array_foreach(vague, i, value)
    {
        char at[64];
        snprintf(at, sizeof at, "/vague_time/%zu", i);
        json_t *hours = json_object_get(value, "hours");
        if (!json_is_number(hours)) {
            content_error_at(ld->errs, &file, at,
                             "write {\"text\": \"weinig tijd\", \"hours\": 2}",
                             "missing hours");
            ld->failed = 1;
            continue;
        }
        ent_entry_t entry = {.role = ENT_ROLE_VAGUE_TIME,
                             .kind = NLU_ENT_TIME,
                             .number = json_number_value(hours)};
        snprintf(at, sizeof at, "/vague_time/%zu/text", i);
        add_phrase(ld, &file, at, json_object_get(value, "text"), &entry);
    }

    load_ranges(ld, &file, "size_ranges", "size", "size", 0, &ld->lang->sizes);
    load_ranges(ld, &file, "age_levels", "level", "level", 0, &ld->lang->ages);
    content_file_free(&file);
}

/* Marks a place name as ambiguous with ordinary words. */
static void flag_places(loader_t *ld, const content_file_t *file,
                        const char *name, int flag)
{
    json_t *array =
        json_object_get(json_object_get(file->root, "ambiguous"), name);
    size_t i;
    json_t *value;
    json_array_foreach(array, i, value)
    {
        char key[ENT_KEY_MAX];
        char at[128];
        snprintf(at, sizeof at, "/ambiguous/%s/%zu", name, i);
        if (!json_is_string(value) ||
            ent_phrase_key(json_string_value(value), key, sizeof key) == 0) {
            content_error_at(ld->errs, file, at, "write the place name",
                             "expected a place name");
            ld->failed = 1;
            continue;
        }
        int found = 0;
        const ent_item_t *item = ent_lang_find(ld->lang, key, strlen(key));
        for (; item; item = item->next == SIZE_MAX
                                ? NULL
                                : &ld->lang->items[item->next]) {
            if (strcmp(item->key, key) != 0 ||
                item->entry.role != ENT_ROLE_PLACE)
                continue;
            ((ent_item_t *)item)->entry.flags |= flag;
            found = 1;
        }
        if (!found) {
            content_error_at(ld->errs, file, at,
                             "list the name under \"municipalities\" first",
                             "unknown place \"%s\"", json_string_value(value));
            ld->failed = 1;
        }
    }
}

/* One municipality and its former municipalities. */
static void load_municipality(loader_t *ld, const content_file_t *file,
                              const char *region, const char *name,
                              json_t *former)
{
    char at[512];
    ent_entry_t entry = {.role = ENT_ROLE_PLACE,
                         .kind = NLU_ENT_REGION,
                         .flags = ENT_PLACE_MUNICIPALITY};
    snprintf(entry.value, sizeof entry.value, "%s", region);
    snprintf(at, sizeof at, "/municipalities/%s/%s", region, name);
    json_t *name_json = json_string(name);
    if (!name_json) {
        out_of_memory(ld, file);
        return;
    }
    add_phrase(ld, file, at, name_json, &entry);
    json_decref(name_json);
    entry.flags = 0;
    add_phrase_array(ld, file, at, former, &entry);
}

/* places.json: municipalities per region id, ambiguous names, context
 * words, token aliases and postcode ranges. */
static void load_places(loader_t *ld)
{
    content_file_t file;
    if (open_file(ld, "places.json", &file) != 0)
        return;
    json_t *regions = json_object_get(file.root, "municipalities");
    const char *region;
    json_t *towns;
    json_object_foreach(regions, region, towns)
    {
        char at[256];
        snprintf(at, sizeof at, "/municipalities/%s", region);
        if (check_facet(ld, &file, at, "region", region) != 0)
            continue;
        const char *name;
        json_t *former;
        json_object_foreach(towns, name, former)
            load_municipality(ld, &file, region, name, former);
    }
    flag_places(ld, &file, "context", ENT_PLACE_NEEDS_CONTEXT);
    flag_places(ld, &file, "capital", ENT_PLACE_NEEDS_CAPITAL);

    ent_entry_t context = {.role = ENT_ROLE_PLACE_CONTEXT};
    json_t *context_words = json_object_get(file.root, "context_words");
    if (context_words)
        add_phrase_array(ld, &file, "/context_words", context_words, &context);

    json_t *aliases = json_object_get(file.root, "token_aliases");
    const char *alias;
    json_t *target;
    json_object_foreach(aliases, alias, target)
    {
        nlu_lang_t *lang = ld->lang;
        void *grown = realloc(lang->token_alias, (lang->token_alias_count + 1) *
                                                     sizeof *lang->token_alias);
        if (!grown) {
            out_of_memory(ld, &file);
            break;
        }
        lang->token_alias = grown;
        char(*pair)[32] = lang->token_alias[lang->token_alias_count++];
        nlu_fold(alias, strlen(alias), pair[0], sizeof pair[0]);
        const char *t = json_string_value(target);
        nlu_fold(t ? t : "", t ? strlen(t) : 0, pair[1], sizeof pair[1]);
    }
    load_ranges(ld, &file, "postcodes", "region", "region", 1,
                &ld->lang->postcodes);
    content_file_free(&file);
}

/* common.json: {"words": [...]}: ordinary words that are known, so that
 * they are never corrected into a synonym or a place. */
static void load_common(loader_t *ld)
{
    content_file_t file;
    if (open_file(ld, "common.json", &file) != 0)
        return;
    json_t *words = json_object_get(file.root, "words");
    if (!json_is_array(words)) {
        content_error_at(ld->errs, &file, "/words",
                         "write {\"words\": [\"...\"]}", "missing \"words\"");
        ld->failed = 1;
    }
    size_t i;
    json_t *value;
    json_array_foreach(words, i, value)
    {
        char key[ENT_KEY_MAX];
        if (json_is_string(value) &&
            ent_phrase_key(json_string_value(value), key, sizeof key) > 0 &&
            add_key_words(ld->lang, NULL, ENT_WORD_KNOWN, key) != 0)
            out_of_memory(ld, &file);
    }
    content_file_free(&file);
}

/* Allocates the language data; the caller frees it with nlu_lang_free(). */
nlu_lang_t *nlu_lang_load(const char *lang_dir, content_errors_t *errs)
{
    nlu_lang_t *lang = calloc(1, sizeof *lang);
    if (!lang) {
        content_errors_add(errs, lang_dir, 0, 0, NULL, "out of memory");
        return NULL;
    }
    lang->words = nlu_lexicon_new();
    lang->places = nlu_lexicon_new();
    loader_t ld = {.lang = lang, .errs = errs, .dir = lang_dir};
    content_file_t facets;
    if (!lang->words || !lang->places ||
        open_file(&ld, "facets.json", &facets) != 0) {
        if (!ld.failed)
            content_errors_add(errs, lang_dir, 0, 0, NULL, "out of memory");
        nlu_lang_free(lang);
        return NULL;
    }
    ld.facets = facets.root;

    load_synonyms(&ld);
    load_cues(&ld);
    load_numbers(&ld);
    load_quantities(&ld);
    load_places(&ld);
    load_common(&ld);
    content_file_free(&facets);
    if (!ld.failed && ent_lang_index(lang) != 0) {
        content_errors_add(errs, lang_dir, 0, 0, NULL, "out of memory");
        ld.failed = 1;
    }
    if (ld.failed) {
        nlu_lang_free(lang);
        return NULL;
    }
    return lang;
}

/* Frees the language data and everything it owns; accepts NULL. */
void nlu_lang_free(nlu_lang_t *lang)
{
    if (!lang)
        return;
    for (size_t i = 0; i < lang->item_count; i++)
        free(lang->items[i].key);
    for (size_t i = 0; i < lang->number_count; i++)
        free(lang->numbers[i].key);
    free(lang->items);
    free(lang->buckets);
    free(lang->numbers);
    free(lang->suffixes);
    free(lang->token_alias);
    free(lang->postcodes.items);
    free(lang->ages.items);
    free(lang->sizes.items);
    nlu_lexicon_free(lang->words);
    nlu_lexicon_free(lang->places);
    ent_lang_index_free(lang);
    free(lang);
}

int nlu_lang_fill_lexicon(const nlu_lang_t *lang, nlu_lexicon_t *lexicon)
{
    for (size_t i = 0; i < lang->item_count; i++)
        if (add_key_words(NULL, lexicon, 0, lang->items[i].key) != 0)
            return -1;
    for (size_t i = 0; i < lang->number_count; i++)
        if (nlu_lexicon_add(lexicon, lang->numbers[i].key) != 0)
            return -1;
    return 0;
}

const char *ent_range_value(const ent_ranges_t *ranges, double number)
{
    for (size_t i = 0; i < ranges->count; i++)
        if (number >= ranges->items[i].from && number <= ranges->items[i].to)
            return ranges->items[i].value;
    return NULL;
}

/* Finds the number word that starts `s` and is longest, with its tag. */
static const ent_item_t *number_prefix(const nlu_lang_t *lang, const char *s,
                                       ent_role_t tag, size_t *len)
{
    const ent_item_t *best = NULL;
    *len = 0;
    for (size_t i = 0; i < lang->number_count; i++) {
        const ent_item_t *item = &lang->numbers[i];
        size_t n = strlen(item->key);
        if (item->entry.role == tag && n > *len &&
            strncmp(s, item->key, n) == 0) {
            best = item;
            *len = n;
        }
    }
    return best;
}

/* Parses a number below 100 that fills s[0, end): a whole word
 * ("vijftien"), or a unit, "en" and a ten ("vijfentwintig"). */
static int below_hundred(const nlu_lang_t *lang, const char *s, size_t end,
                         double *value)
{
    for (size_t i = 0; i < lang->number_count; i++) {
        const ent_item_t *item = &lang->numbers[i];
        if (item->entry.role == ENT_ROLE_SYNONYM && strlen(item->key) == end &&
            strncmp(s, item->key, end) == 0) {
            *value = item->entry.number;
            return 1;
        }
    }
    size_t n;
    const ent_item_t *unit = number_prefix(lang, s, ENT_ROLE_PERIOD, &n);
    if (!unit || end < n + 2 || strncmp(s + n, "en", 2) != 0)
        return 0;
    size_t rest = n + 2;
    for (size_t i = 0; i < lang->number_count; i++) {
        const ent_item_t *item = &lang->numbers[i];
        if (item->entry.role == ENT_ROLE_TIME_UNIT &&
            strlen(item->key) == end - rest &&
            strncmp(s + rest, item->key, end - rest) == 0) {
            *value = unit->entry.number + item->entry.number;
            return 1;
        }
    }
    return 0;
}

/* Parses s[0, end) as [factor] multiplier [rest] or as a number below 100,
 * recursively, so "tweeduizendvijfhonderd" is 2500. */
static int parse_number(const nlu_lang_t *lang, const char *s, size_t end,
                        double *value)
{
    if (end == 0)
        return 0;
    if (below_hundred(lang, s, end, value))
        return 1;
    /* Try the largest multiplier found in the word first. */
    double best_mult = 0;
    size_t at = 0, mult_len = 0;
    for (size_t i = 0; i < lang->number_count; i++) {
        const ent_item_t *item = &lang->numbers[i];
        if (item->entry.role != ENT_ROLE_RANGE)
            continue;
        size_t n = strlen(item->key);
        for (size_t p = 0; p + n <= end; p++) {
            if (strncmp(s + p, item->key, n) == 0 &&
                item->entry.number > best_mult) {
                best_mult = item->entry.number;
                at = p;
                mult_len = n;
            }
        }
    }
    if (best_mult == 0)
        return 0;
    double factor = 1, rest = 0;
    if (at > 0 && !parse_number(lang, s, at, &factor))
        return 0;
    size_t tail = at + mult_len;
    if (tail < end && !parse_number(lang, s + tail, end - tail, &rest))
        return 0;
    if (rest >= best_mult)
        return 0;
    *value = factor * best_mult + rest;
    return 1;
}

int ent_number_word(const nlu_lang_t *lang, const char *folded, double *value)
{
    size_t len = strlen(folded);
    if (len == 0 || !isalpha((unsigned char)folded[0]))
        return 0;
    if (parse_number(lang, folded, len, value))
        return 1;
    for (size_t i = 0; i < lang->suffix_count; i++) {
        size_t n = strlen(lang->suffixes[i]);
        if (n > 0 && len > n &&
            strcmp(folded + len - n, lang->suffixes[i]) == 0 &&
            parse_number(lang, folded, len - n, value))
            return 1;
    }
    return 0;
}
