#include "nlu/clf_intents.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/text.h"

/* Where an example was written, to report duplicates. */
typedef struct {
    char *folded;
    size_t intent;
    size_t file;  /* index into the loaded files */
    size_t entry; /* index of the intent in its file's array */
    size_t index; /* index of the example in the intent's examples */
} example_site_t;

/* What the whole folder load keeps until validation ends. */
typedef struct {
    nlu_intent_set_t *set;
    content_errors_t *errs;
    content_file_t *files;
    size_t file_count;
    size_t *intent_file;  /* per intent: index of its file */
    size_t *intent_entry; /* per intent: index in that file's array */
    example_site_t *sites;
    size_t site_count;
    size_t site_capacity;
} loader_t;

static const char *const intent_keys[] = {"name", "description", "examples",
                                          "patterns"};

static int valid_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= NLU_NAME_MAX || !islower((unsigned char)name[0]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!islower((unsigned char)name[i]) &&
            !isdigit((unsigned char)name[i]) && name[i] != '_')
            return 0;
    return 1;
}

/* Returns the character column of byte `offset` in a JSON string value
 * whose opening quote is at (line, column), by walking its escapes. */
static int string_column(const content_file_t *file, int line, int column,
                         size_t offset)
{
    const char *p = file->text;
    for (int l = 1; l < line && *p; p++)
        if (*p == '\n')
            l++;
    for (int c = 1; c < column && *p && *p != '\n'; p++)
        if (((unsigned char)p[1] & 0xC0) != 0x80)
            c++;
    if (*p != '"')
        return column;
    p++;
    int result = column + 1;
    size_t decoded = 0;
    while (*p && *p != '"' && decoded < offset) {
        if (*p == '\\' && p[1] == 'u') {
            p += 6;
            result += 6;
            decoded += 2; /* an estimate: \u escapes are 1 to 3 bytes */
            continue;
        }
        if (*p == '\\' && p[1]) {
            p += 2;
            result += 2;
            decoded++;
            continue;
        }
        if (((unsigned char)*p & 0xC0) != 0x80)
            result++;
        p++;
        decoded++;
    }
    return result;
}

static void check_keys(loader_t *loader, const content_file_t *file,
                       json_t *intent, const char *pointer)
{
    const char *key;
    json_t *value;
    json_object_foreach(intent, key, value)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof intent_keys / sizeof *intent_keys; i++)
            if (strcmp(key, intent_keys[i]) == 0)
                known = 1;
        if (!known) {
            char at[128];
            snprintf(at, sizeof at, "%s/%s", pointer, key);
            content_error_at(loader->errs, file, at,
                             "use only name, description, examples and "
                             "patterns",
                             "unknown key \"%s\" in an intent", key);
        }
    }
}

static int add_site(loader_t *loader, const char *text, size_t intent,
                    size_t file, size_t entry, size_t index)
{
    if (loader->site_count == loader->site_capacity) {
        size_t cap = loader->site_capacity ? loader->site_capacity * 2 : 256;
        example_site_t *grown = realloc(loader->sites, cap * sizeof *grown);
        if (!grown)
            return -1;
        loader->sites = grown;
        loader->site_capacity = cap;
    }
    size_t len = strlen(text);
    char *folded = malloc(2 * len + 1);
    if (!folded)
        return -1;
    nlu_fold(text, len, folded, 2 * len + 1);
    loader->sites[loader->site_count++] =
        (example_site_t){folded, intent, file, entry, index};
    return 0;
}

static int has_word(const nlu_token_t *token, void *arg)
{
    (void)token;
    (void)arg;
    return 1;
}

static void load_examples(loader_t *loader, size_t file_index, size_t entry,
                          json_t *examples, nlu_intent_def_t *def,
                          const char *pointer)
{
    const content_file_t *file = &loader->files[file_index];
    char at[128];
    snprintf(at, sizeof at, "%s/examples", pointer);
    if (!json_is_array(examples)) {
        content_error_at(loader->errs, file, examples ? at : pointer,
                         "write \"examples\": [\"...\", \"...\"]",
                         "intent \"%s\" needs an array of examples", def->name);
        return;
    }
    size_t count = json_array_size(examples);
    if (count < NLU_MIN_EXAMPLES)
        content_error_at(loader->errs, file, at,
                         "add varied examples as visitors would write them",
                         "intent \"%s\" has %zu examples; at least %d are "
                         "needed",
                         def->name, count, NLU_MIN_EXAMPLES);
    def->examples = calloc(count ? count : 1, sizeof *def->examples);
    if (!def->examples)
        return;

    for (size_t i = 0; i < count; i++) {
        json_t *example = json_array_get(examples, i);
        char item[160];
        snprintf(item, sizeof item, "%s/%zu", at, i);
        if (!json_is_string(example)) {
            content_error_at(loader->errs, file, item,
                             "write the example between double quotes",
                             "example %zu of intent \"%s\" is not a string",
                             i + 1, def->name);
            continue;
        }
        const char *text = json_string_value(example);
        if (nlu_tokenize(text, strlen(text), has_word, NULL) == 0) {
            content_error_at(loader->errs, file, item,
                             "write at least one word or remove the example",
                             "example %zu of intent \"%s\" has no words", i + 1,
                             def->name);
            continue;
        }
        def->examples[def->example_count] = strdup(text);
        if (!def->examples[def->example_count])
            return;
        def->example_count++;
        add_site(loader, text, (size_t)(def - loader->set->items), file_index,
                 entry, i);
    }
}

static void load_patterns(loader_t *loader, const content_file_t *file,
                          json_t *patterns, nlu_intent_def_t *def,
                          const char *pointer)
{
    char at[128];
    snprintf(at, sizeof at, "%s/patterns", pointer);
    if (!patterns)
        return;
    if (!json_is_array(patterns)) {
        content_error_at(loader->errs, file, at,
                         "write \"patterns\": [\"regex\", ...] or leave the "
                         "key out",
                         "patterns of intent \"%s\" must be an array",
                         def->name);
        return;
    }
    size_t count = json_array_size(patterns);
    def->patterns = calloc(count ? count : 1, sizeof *def->patterns);
    def->sources = calloc(count ? count : 1, sizeof *def->sources);
    if (!def->patterns || !def->sources)
        return;

    for (size_t i = 0; i < count; i++) {
        json_t *pattern = json_array_get(patterns, i);
        char item[160];
        snprintf(item, sizeof item, "%s/%zu", at, i);
        if (!json_is_string(pattern)) {
            content_error_at(loader->errs, file, item,
                             "write the pattern as a string; escape a "
                             "backslash as \\\\",
                             "pattern %zu of intent \"%s\" is not a string",
                             i + 1, def->name);
            continue;
        }
        int code;
        PCRE2_SIZE offset;
        pcre2_code *re = pcre2_compile(
            (PCRE2_SPTR)json_string_value(pattern), PCRE2_ZERO_TERMINATED,
            PCRE2_UTF | PCRE2_CASELESS, &code, &offset, NULL);
        if (!re) {
            PCRE2_UCHAR reason[160];
            pcre2_get_error_message(code, reason, sizeof reason);
            int line, column;
            content_locate(file, item, &line, &column);
            column = string_column(file, line, column, offset);
            content_errors_add(loader->errs, file->path, line, column,
                               "fix the regular expression (PCRE2 syntax); "
                               "it is matched against lower-case text "
                               "without accents",
                               "invalid pattern in intent \"%s\" at offset "
                               "%zu: %s",
                               def->name, (size_t)offset, (char *)reason);
            continue;
        }
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up */
        def->sources[def->pattern_count] = strdup(json_string_value(pattern));
        def->patterns[def->pattern_count++] = re;
    }
}

/* Validates one intent object and appends it to the set. */
static void load_intent(loader_t *loader, size_t file_index, size_t entry,
                        json_t *intent)
{
    const content_file_t *file = &loader->files[file_index];
    char pointer[64];
    snprintf(pointer, sizeof pointer, "/intents/%zu", entry);
    if (!json_is_object(intent)) {
        content_error_at(loader->errs, file, pointer,
                         "write each intent as an object with name and "
                         "examples",
                         "intent %zu is not an object", entry + 1);
        return;
    }
    check_keys(loader, file, intent, pointer);

    json_t *name = json_object_get(intent, "name");
    char name_at[96], at[96];
    snprintf(name_at, sizeof name_at, "%s/name", pointer);
    if (!json_is_string(name) || !valid_name(json_string_value(name))) {
        content_error_at(loader->errs, file, name ? name_at : pointer,
                         "use lower-case letters, digits and _, starting "
                         "with a letter, e.g. \"find_initiative\"",
                         "intent %zu needs a valid \"name\"", entry + 1);
        return;
    }
    json_t *description = json_object_get(intent, "description");
    snprintf(at, sizeof at, "%s/description", pointer);
    if (description && !json_is_string(description))
        content_error_at(loader->errs, file, at,
                         "write the description as a string",
                         "description of intent \"%s\" is not a string",
                         json_string_value(name));

    for (size_t i = 0; i < loader->set->count; i++) {
        if (strcmp(loader->set->items[i].name, json_string_value(name)))
            continue;
        int line, column;
        char first[64];
        snprintf(first, sizeof first, "/intents/%zu/name",
                 loader->intent_entry[i]);
        content_locate(&loader->files[loader->intent_file[i]], first, &line,
                       &column);
        char hint[256];
        snprintf(hint, sizeof hint,
                 "rename one of them or merge their examples; the first is "
                 "at %.150s:%d",
                 loader->files[loader->intent_file[i]].path, line);
        content_error_at(loader->errs, file, name_at, hint,
                         "duplicate intent name \"%s\"",
                         json_string_value(name));
        return;
    }

    nlu_intent_def_t *def = &loader->set->items[loader->set->count];
    memset(def, 0, sizeof *def);
    snprintf(def->name, sizeof def->name, "%s", json_string_value(name));
    loader->intent_file[loader->set->count] = file_index;
    loader->intent_entry[loader->set->count] = entry;
    loader->set->count++;
    load_examples(loader, file_index, entry,
                  json_object_get(intent, "examples"), def, pointer);
    load_patterns(loader, file, json_object_get(intent, "patterns"), def,
                  pointer);
}

/* Checks the file's top level and loads its intents. */
static void load_file(loader_t *loader, size_t file_index)
{
    const content_file_t *file = &loader->files[file_index];
    json_t *root = file->root;
    json_t *intents = json_object_get(root, "intents");
    if (!json_is_object(root) || !json_is_array(intents)) {
        content_error_at(loader->errs, file, intents ? "/intents" : "",
                         "write {\"intents\": [{\"name\": ..., \"examples\": "
                         "[...]}]}",
                         "an intent file needs an \"intents\" array");
        return;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "intents") != 0) {
            char at[96];
            snprintf(at, sizeof at, "/%.80s", key);
            content_error_at(loader->errs, file, at,
                             "put everything inside the \"intents\" array",
                             "unknown key \"%s\" at the top of the file", key);
        }
    }
    size_t count = json_array_size(intents);
    size_t needed = loader->set->count + count;
    nlu_intent_def_t *items =
        realloc(loader->set->items, (needed ? needed : 1) * sizeof *items);
    size_t *files = realloc(loader->intent_file, (needed + 1) * sizeof *files);
    if (files)
        loader->intent_file = files;
    size_t *entries =
        realloc(loader->intent_entry, (needed + 1) * sizeof *entries);
    if (entries)
        loader->intent_entry = entries;
    if (!items || !files || !entries) {
        if (items)
            loader->set->items = items;
        content_errors_add(loader->errs, file->path, 0, 0, NULL,
                           "out of memory");
        return;
    }
    loader->set->items = items;
    for (size_t i = 0; i < count; i++)
        load_intent(loader, file_index, i, json_array_get(intents, i));
}

static int compare_sites(const void *a, const void *b)
{
    const example_site_t *x = a, *y = b;
    int rc = strcmp(x->folded, y->folded);
    if (rc)
        return rc;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Reports every example that is written twice after folding, in one
 * intent or in two. */
static void check_duplicates(loader_t *loader)
{
    qsort(loader->sites, loader->site_count, sizeof *loader->sites,
          compare_sites);
    for (size_t i = 1; i < loader->site_count; i++) {
        const example_site_t *first = &loader->sites[i - 1];
        const example_site_t *again = &loader->sites[i];
        if (strcmp(first->folded, again->folded) != 0)
            continue;
        char at[96];
        snprintf(at, sizeof at, "/intents/%zu/examples/%zu", again->entry,
                 again->index);
        const char *first_name = loader->set->items[first->intent].name;
        const char *name = loader->set->items[again->intent].name;
        if (first->intent == again->intent)
            content_error_at(loader->errs, &loader->files[again->file], at,
                             "remove one of the two",
                             "duplicate example in intent \"%s\"", name);
        else
            content_error_at(loader->errs, &loader->files[again->file], at,
                             "keep the example in the one intent it belongs "
                             "to",
                             "example of intent \"%s\" is also an example of "
                             "\"%s\"",
                             name, first_name);
    }
}

int nlu_intent_set_load(const char *dir, nlu_intent_set_t *set,
                        content_errors_t *errs)
{
    memset(set, 0, sizeof *set);
    size_t errors_before = errs->count;
    char **paths;
    size_t path_count;
    if (content_list_json(dir, &paths, &path_count, errs))
        return -1;
    if (path_count == 0) {
        content_errors_add(errs, dir, 0, 0,
                           "add at least one intent file such as "
                           "smalltalk.json",
                           "no *.json intent files in this folder");
        content_list_free(paths, path_count);
        return -1;
    }

    loader_t loader = {.set = set, .errs = errs};
    loader.files = calloc(path_count, sizeof *loader.files);
    if (!loader.files) {
        content_errors_add(errs, dir, 0, 0, NULL, "out of memory");
        content_list_free(paths, path_count);
        return -1;
    }
    for (size_t i = 0; i < path_count; i++) {
        if (content_file_load(paths[i], &loader.files[i], errs) == 0)
            load_file(&loader, i);
        loader.file_count = i + 1;
    }
    check_duplicates(&loader);
    if (set->count < 2 && errs->count == errors_before)
        content_errors_add(errs, dir, 0, 0,
                           "define at least two intents, e.g. greeting and "
                           "out_of_scope",
                           "the classifier needs at least two intents, "
                           "found %zu",
                           set->count);

    for (size_t i = 0; i < loader.site_count; i++)
        free(loader.sites[i].folded);
    free(loader.sites);
    free(loader.intent_file);
    free(loader.intent_entry);
    for (size_t i = 0; i < loader.file_count; i++)
        content_file_free(&loader.files[i]);
    free(loader.files);
    content_list_free(paths, path_count);
    return errs->count == errors_before ? 0 : -1;
}

void nlu_intent_set_free(nlu_intent_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++) {
        nlu_intent_def_t *def = &set->items[i];
        for (size_t j = 0; j < def->example_count; j++)
            free(def->examples[j]);
        free(def->examples);
        for (size_t j = 0; j < def->pattern_count; j++) {
            pcre2_code_free(def->patterns[j]);
            free(def->sources[j]);
        }
        free(def->patterns);
        free(def->sources);
    }
    free(set->items);
    memset(set, 0, sizeof *set);
}
