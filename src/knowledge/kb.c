/* Loading the knowledge base: every JSON file in kb/ is read, each entry is
 * validated, ids are checked across files, and the index is built. */
#include "knowledge/kb_private.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Where an entry was defined, for errors that point at two places. */
typedef struct {
    size_t file;
    size_t index;
} origin_t;

/* The state of one kb_load call. */
typedef struct {
    kb_t *kb;
    content_file_t *files;
    size_t file_count;
    origin_t *origins; /* one per item */
    size_t capacity;
    content_errors_t *errs;
    int errors;
} loader_t;

int kb_edit_distance(const char *a, const char *b, int limit)
{
    size_t la = strlen(a), lb = strlen(b);
    enum { W = 128 };
    if (la >= W || lb >= W)
        return strcmp(a, b) == 0 ? 0 : limit + 1;
    if ((la > lb ? la - lb : lb - la) > (size_t)limit)
        return limit + 1;
    int rows[3][W];
    int *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int row_min = cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int d = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < d)
                d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
                d = prev2[j - 2] + 1;
            cur[j] = d;
            if (d < row_min)
                row_min = d;
        }
        if (row_min > limit)
            return limit + 1;
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb] > limit ? limit + 1 : prev[lb];
}

void kb_copy_utf8(char *out, size_t size, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (size == 0)
        return;
    if (len >= size) {
        len = size - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--; /* s[len] would be a continuation byte: cut before */
    }
    if (len)
        memcpy(out, s, len);
    out[len] = '\0';
}

/* Adds the folded name (title or alias) of an item for kb_find_named. */
typedef struct {
    char compact[256];
    size_t used;
    size_t words;
} name_builder_t;

static int add_name_token(const nlu_token_t *token, void *arg)
{
    name_builder_t *b = arg;
    size_t n = strlen(token->folded);
    if (b->used + n >= sizeof b->compact)
        return 1;
    memcpy(b->compact + b->used, token->folded, n + 1);
    b->used += n;
    b->words++;
    return 0;
}

static int add_name(kb_item_t *item, const char *name)
{
    name_builder_t b = {.used = 0};
    b.compact[0] = '\0';
    nlu_tokenize(name, strlen(name), add_name_token, &b);
    if (b.words == 0)
        return 0;
    kb_name_t *grown =
        realloc(item->names, (item->name_count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    item->names = grown;
    kb_name_t *n = &item->names[item->name_count];
    n->compact = strdup(b.compact);
    if (!n->compact)
        return -1;
    n->letters = 0;
    for (const char *c = n->compact; *c; c++)
        n->letters += ((unsigned char)*c & 0xC0) != 0x80;
    n->words = b.words;
    item->name_count++;
    return 0;
}

static int add_names(kb_item_t *item)
{
    if (item->title && add_name(item, item->title) != 0)
        return -1;
    size_t i;
    json_t *alias;
    json_array_foreach(json_object_get(item->json, "aliases"), i, alias)
    {
        const char *s = json_string_value(alias);
        if (s && add_name(item, s) != 0)
            return -1;
    }
    return 0;
}

static int push_item(loader_t *l, const kb_item_t *item, origin_t origin)
{
    kb_t *kb = l->kb;
    if (kb->count == l->capacity) {
        size_t capacity = l->capacity ? l->capacity * 2 : 64;
        kb_item_t *items = realloc(kb->items, capacity * sizeof *items);
        if (!items)
            return -1;
        kb->items = items;
        origin_t *origins = realloc(l->origins, capacity * sizeof *origins);
        if (!origins)
            return -1;
        l->origins = origins;
        l->capacity = capacity;
    }
    kb->items[kb->count] = *item;
    l->origins[kb->count] = origin;
    kb->count++;
    return 0;
}

/* Reads one file and validates its entries. */
static void load_file(loader_t *l, size_t file_index)
{
    content_file_t *file = &l->files[file_index];
    json_t *root = file->root;
    if (!json_is_object(root) ||
        !json_is_array(json_object_get(root, "entries"))) {
        content_error_at(l->errs, file, "",
                         "write the file as {\"entries\": [ ... ]}",
                         "a kb file must be an object with an \"entries\" "
                         "array");
        l->errors++;
        return;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "entries") == 0)
            continue;
        char pointer[160];
        snprintf(pointer, sizeof pointer, "/%s", key);
        content_error_at(l->errs, file, pointer,
                         "remove it; a kb file has only \"entries\"",
                         "unknown key \"%s\"", key);
        l->errors++;
    }

    size_t i;
    json_t *entry;
    json_array_foreach(json_object_get(root, "entries"), i, entry)
    {
        char pointer[48];
        snprintf(pointer, sizeof pointer, "/entries/%zu", i);
        kb_item_t item;
        l->errors += kb_validate_entry(&l->kb->facets, file, pointer, entry,
                                       &item, l->errs);
        if (!item.id || item.type < 0)
            continue;
        item.json = json_incref(entry);
        if (push_item(l, &item, (origin_t){file_index, i}) != 0 ||
            add_names(&l->kb->items[l->kb->count - 1]) != 0) {
            content_errors_add(l->errs, file->path, 0, 0, NULL,
                               "out of memory");
            l->errors++;
            return;
        }
    }
}

static int compare_ids(const void *a, const void *b)
{
    const kb_item_t *x = *(const kb_item_t *const *)a;
    const kb_item_t *y = *(const kb_item_t *const *)b;
    int c = strcmp(x->id, y->id);
    if (c != 0)
        return c;
    return x < y ? -1 : x > y;
}

static int compare_listing(const void *a, const void *b)
{
    const kb_item_t *x = *(const kb_item_t *const *)a;
    const kb_item_t *y = *(const kb_item_t *const *)b;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return compare_ids(a, b);
}

/* Sorts the entries by id (for lookups) and by type, order and id (for
 * kb_list_type). Returns 0 or -1 (memory). */
static int sort_entries(kb_t *kb)
{
    kb->by_id = malloc((kb->count + 1) * sizeof *kb->by_id);
    kb->by_order = malloc((kb->count + 1) * sizeof *kb->by_order);
    if (!kb->by_id || !kb->by_order)
        return -1;
    for (size_t i = 0; i < kb->count; i++)
        kb->by_id[i] = kb->by_order[i] = &kb->items[i];
    qsort(kb->by_id, kb->count, sizeof *kb->by_id, compare_ids);
    qsort(kb->by_order, kb->count, sizeof *kb->by_order, compare_listing);
    return 0;
}

/* Returns the item with this id, or NULL. */
static const kb_item_t *find_item(const kb_t *kb, const char *id)
{
    size_t lo = 0, hi = kb->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(kb->by_id[mid]->id, id);
        if (c == 0)
            return kb->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const content_file_t *origin_file(const loader_t *l,
                                         const kb_item_t *item)
{
    return &l->files[l->origins[item - l->kb->items].file];
}

static size_t origin_index(const loader_t *l, const kb_item_t *item)
{
    return l->origins[item - l->kb->items].index;
}

/* Reports duplicate ids, naming both places. */
static void check_duplicates(loader_t *l)
{
    kb_t *kb = l->kb;
    for (size_t i = 1; i < kb->count; i++) {
        const kb_item_t *first = kb->by_id[i - 1], *second = kb->by_id[i];
        if (strcmp(first->id, second->id) != 0)
            continue;
        const content_file_t *file = origin_file(l, first);
        char pointer[64];
        int line, column;
        snprintf(pointer, sizeof pointer, "/entries/%zu/id",
                 origin_index(l, first));
        content_locate(file, pointer, &line, &column);
        snprintf(pointer, sizeof pointer, "/entries/%zu/id",
                 origin_index(l, second));
        content_error_at(l->errs, origin_file(l, second), pointer,
                         "give one of the two entries another id",
                         "duplicate id \"%s\"; first defined at %s:%d:%d",
                         second->id, file->path, line, column);
        l->errors++;
    }
}

/* Reports "related" ids that name no entry, and route steps that share an
 * order. */
static void check_references(loader_t *l)
{
    kb_t *kb = l->kb;
    for (size_t i = 0; i < kb->count; i++) {
        const kb_item_t *item = &kb->items[i];
        size_t r;
        json_t *ref;
        json_array_foreach(json_object_get(item->json, "related"), r, ref)
        {
            char pointer[80];
            snprintf(pointer, sizeof pointer, "/entries/%zu/related/%zu",
                     origin_index(l, item), r);
            const char *id = json_string_value(ref);
            if (id && strcmp(id, item->id) == 0) {
                content_error_at(
                    l->errs, origin_file(l, item), pointer, "remove it",
                    "entry \"%s\" lists itself in \"related\"", id);
                l->errors++;
            } else if (!id || !find_item(kb, id)) {
                content_error_at(l->errs, origin_file(l, item), pointer,
                                 "write the id of an existing entry or "
                                 "remove it",
                                 "related id \"%s\" names no entry",
                                 id ? id : "(not a string)");
                l->errors++;
            }
        }
    }

    for (size_t i = 1; i < kb->count; i++) {
        const kb_item_t *a = kb->by_order[i - 1], *b = kb->by_order[i];
        if (a->order == LONG_MAX || a->order != b->order ||
            a->type != b->type ||
            strcmp(kb_type_names[a->type], "route-step") != 0)
            continue;
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/entries/%zu/order",
                 origin_index(l, b));
        content_error_at(l->errs, origin_file(l, b), pointer,
                         "give every route step its own number",
                         "route steps \"%s\" and \"%s\" share order %ld", a->id,
                         b->id, a->order);
        l->errors++;
    }
}

static void free_items(kb_t *kb)
{
    for (size_t i = 0; i < kb->count; i++) {
        kb_item_t *item = &kb->items[i];
        for (size_t n = 0; n < item->name_count; n++)
            free(item->names[n].compact);
        free(item->names);
        json_decref(item->json);
    }
    free(kb->items);
    kb->items = NULL;
    kb->count = 0;
}

/* Frees the index, the entries and the facets; accepts NULL. */
void kb_free(kb_t *kb)
{
    if (!kb)
        return;
    sqlite3_close(kb->db);
    kb_index_free(kb);
    free_items(kb);
    free(kb->by_id);
    free(kb->by_order);
    kb_facets_free(&kb->facets);
    free(kb);
}

/* Reads and validates every file; returns the number of errors. */
static int read_files(loader_t *l, const char *kb_dir)
{
    char **paths = NULL;
    size_t count = 0;
    if (content_list_json(kb_dir, &paths, &count, l->errs) != 0)
        return ++l->errors;
    l->files = calloc(count + 1, sizeof *l->files);
    if (!l->files) {
        content_list_free(paths, count);
        content_errors_add(l->errs, kb_dir, 0, 0, NULL, "out of memory");
        return ++l->errors;
    }
    for (size_t i = 0; i < count; i++) {
        if (content_file_load(paths[i], &l->files[i], l->errs) != 0)
            l->errors++;
        else
            load_file(l, i);
        l->file_count = i + 1;
    }
    content_list_free(paths, count);
    if (sort_entries(l->kb) != 0) {
        content_errors_add(l->errs, kb_dir, 0, 0, NULL, "out of memory");
        return ++l->errors;
    }
    check_duplicates(l);
    check_references(l);
    return l->errors;
}

kb_t *kb_load(const char *kb_dir, const char *lang_dir, content_errors_t *errs)
{
    kb_t *kb = calloc(1, sizeof *kb);
    if (!kb) {
        content_errors_add(errs, kb_dir, 0, 0, NULL, "out of memory");
        return NULL;
    }
    loader_t l = {.kb = kb, .errs = errs};
    if (kb_facets_load(&kb->facets, lang_dir, errs) != 0) {
        kb_free(kb);
        return NULL;
    }
    read_files(&l, kb_dir);
    for (size_t i = 0; i < l.file_count; i++)
        content_file_free(&l.files[i]);
    free(l.files);
    free(l.origins);
    if (l.errors) {
        kb_free(kb);
        return NULL;
    }

    if (kb_index_build(kb) != 0) {
        content_errors_add(errs, kb_dir, 0, 0, NULL,
                           "building the search index failed: out of memory");
        kb_free(kb);
        return NULL;
    }
    LOG_INFO("kb", "loaded %zu entries, index built in %.0f ms", kb->count,
             kb->index_seconds * 1000.0);
    return kb;
}

size_t kb_entry_count(const kb_t *kb)
{
    return kb ? kb->count : 0;
}

const json_t *kb_entry(const kb_t *kb, const char *id)
{
    if (!kb || !id)
        return NULL;
    const kb_item_t *item = find_item(kb, id);
    return item ? item->json : NULL;
}

size_t kb_list_type(const kb_t *kb, const char *type, const json_t **out,
                    size_t max)
{
    size_t written = 0;
    int wanted = kb_type_find(type);
    for (size_t i = 0; kb && i < kb->count && written < max; i++)
        if (kb->by_order[i]->type == wanted)
            out[written++] = kb->by_order[i]->json;
    return written;
}

size_t kb_facet_values(const kb_t *kb, const char *facet, const char **values,
                       size_t max)
{
    if (!kb || !facet)
        return 0;
    if (strcmp(facet, "type") == 0) {
        size_t n = 0;
        for (; n < KB_TYPE_COUNT && n < max; n++)
            values[n] = kb_type_names[n];
        return n;
    }
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        if (strcmp(kb_facet_names[kind], facet) != 0)
            continue;
        const kb_facet_t *f = &kb->facets.facets[kind];
        size_t n = 0;
        for (; n < f->count && n < max; n++)
            values[n] = f->values[n].value;
        return n;
    }
    return 0;
}

int kb_facet_broader(const kb_t *kb, const char *facet, const char *value,
                     const char *other)
{
    if (!kb || !facet || !value || !other)
        return 0;
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        if (strcmp(kb_facet_names[kind], facet) != 0)
            continue;
        int a = kb_facet_find(&kb->facets, kind, value);
        int b = kb_facet_find(&kb->facets, kind, other);
        if (a < 0 || b < 0 || a == b)
            return 0;
        const kb_facet_t *f = &kb->facets.facets[kind];
        int a_covers_b = f->values[a].also >> b & 1;
        int b_covers_a = f->values[b].also >> a & 1;
        if (a_covers_b != b_covers_a)
            return a_covers_b;
        if (!a_covers_b)
            return 0;
        /* Each matches the other ("bso" and "so3"): the value that fewer
         * entries list is the broader one, so the value the entries are
         * indexed by (the grade) is kept. */
        size_t listed_a = 0, listed_b = 0;
        for (size_t i = 0; i < kb->count; i++) {
            listed_a += kb->items[i].sets[kind] >> a & 1;
            listed_b += kb->items[i].sets[kind] >> b & 1;
        }
        return listed_a < listed_b;
    }
    return 0;
}

const char *kb_facet_label(const kb_t *kb, const char *facet, const char *value)
{
    if (!kb || !facet || !value)
        return NULL;
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        if (strcmp(kb_facet_names[kind], facet) != 0)
            continue;
        int index = kb_facet_find(&kb->facets, kind, value);
        return index < 0 ? NULL : kb->facets.facets[kind].values[index].label;
    }
    return NULL;
}
