/* The facet vocabulary: canonical ids, Dutch labels and reasons from
 * lang/facets.json. */
#include "knowledge/kb_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kb_facet_names[KB_FACET_COUNT] = {"level", "region", "sector",
                                                    "size", "goal"};

const char *const kb_type_names[KB_TYPE_COUNT] = {
    "initiative", "organisation", "partner", "practice",
    "route-step", "checklist",    "link"};

int kb_type_find(const char *name)
{
    for (int i = 0; i < KB_TYPE_COUNT; i++)
        if (name && strcmp(kb_type_names[i], name) == 0)
            return i;
    return -1;
}

int kb_facet_find(const kb_facets_t *facets, kb_facet_kind_t kind,
                  const char *value)
{
    const kb_facet_t *facet = &facets->facets[kind];
    for (size_t i = 0; i < facet->count; i++)
        if (value && strcmp(facet->values[i].value, value) == 0)
            return (int)i;
    return -1;
}

void kb_facet_list(const kb_facets_t *facets, kb_facet_kind_t kind, char *out,
                   size_t size)
{
    const kb_facet_t *facet = &facets->facets[kind];
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < facet->count && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                         facet->values[i].value);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Copies the string member `key` of a facet value; adds an error and
 * returns NULL when it is missing. The caller frees the copy. */
static char *copy_member(const content_file_t *file, json_t *value,
                         const char *pointer, const char *key,
                         content_errors_t *errs)
{
    const char *s = json_string_value(json_object_get(value, key));
    if (!s || !s[0]) {
        content_error_at(errs, file, pointer, "write it as a non-empty string",
                         "facet value is missing \"%s\"", key);
        return NULL;
    }
    return strdup(s);
}

/* Loads the array of one facet. Returns the number of errors added. */
static int load_facet(kb_facet_t *facet, const content_file_t *file,
                      const char *name, content_errors_t *errs)
{
    char pointer[64];
    json_t *list = json_object_get(file->root, name);
    snprintf(pointer, sizeof pointer, "/%s", name);
    if (!json_is_array(list) || json_array_size(list) == 0) {
        content_error_at(errs, file, "",
                         "add an array of {value, label, "
                         "reason} objects under this key",
                         "missing facet \"%s\"", name);
        return 1;
    }
    if (json_array_size(list) > KB_FACET_VALUES_MAX) {
        content_error_at(errs, file, pointer, "merge or remove values",
                         "facet \"%s\" has %zu values; at most %d are "
                         "supported",
                         name, json_array_size(list), KB_FACET_VALUES_MAX);
        return 1;
    }

    int errors = 0;
    size_t i;
    json_t *value;
    json_array_foreach(list, i, value)
    {
        snprintf(pointer, sizeof pointer, "/%s/%zu", name, i);
        kb_facet_value_t *v = &facet->values[facet->count];
        v->value = copy_member(file, value, pointer, "value", errs);
        v->label = copy_member(file, value, pointer, "label", errs);
        v->reason = copy_member(file, value, pointer, "reason", errs);
        facet->count++;
        if (!v->value || !v->label || !v->reason)
            errors++;
    }
    return errors;
}

/* Reads the optional "also_matches" list of each value of a facet: ids of
 * the same facet whose entries a filter on this value matches too ("tso"
 * also matches entries for "so2"). Returns the number of errors added. */
static int load_also_matches(kb_facets_t *facets, kb_facet_kind_t kind,
                             const content_file_t *file, content_errors_t *errs)
{
    const char *name = kb_facet_names[kind];
    int supported = kind == KB_FACET_LEVEL || kind == KB_FACET_SECTOR ||
                    kind == KB_FACET_GOAL;
    kb_facet_t *facet = &facets->facets[kind];
    json_t *list = json_object_get(file->root, name);
    int errors = 0;
    for (size_t i = 0; i < facet->count; i++) {
        json_t *also = json_object_get(json_array_get(list, i), "also_matches");
        char pointer[96];
        snprintf(pointer, sizeof pointer, "/%s/%zu/also_matches", name, i);
        if (!also)
            continue;
        if (!supported) {
            content_error_at(errs, file, pointer, "remove it",
                             "\"also_matches\" is supported for level, "
                             "sector and goal values only");
            errors++;
            continue;
        }
        if (!json_is_array(also)) {
            content_error_at(
                errs, file, pointer, "write an array of ids, e.g. [\"so2\"]",
                "\"also_matches\" must be an array of %s ids", name);
            errors++;
            continue;
        }
        size_t j;
        json_t *id;
        json_array_foreach(also, j, id)
        {
            int index = kb_facet_find(facets, kind, json_string_value(id));
            if (index < 0 || (size_t)index == i) {
                char at[128], valid[512];
                snprintf(at, sizeof at, "%s/%zu", pointer, j);
                kb_facet_list(facets, kind, valid, sizeof valid);
                content_error_at(errs, file, at,
                                 "use another id of the same facet",
                                 "invalid %s id \"%s\" in \"also_matches\"; "
                                 "expected one of %s",
                                 name,
                                 json_string_value(id) ? json_string_value(id)
                                                       : "(not a string)",
                                 valid);
                errors++;
                continue;
            }
            facet->values[i].also |= 1ull << index;
        }
    }
    return errors;
}

/* Reads lang_dir/facets.json; every facet value needs an id, a label and a
 * reason, and may list "also_matches". */
int kb_facets_load(kb_facets_t *facets, const char *lang_dir,
                   content_errors_t *errs)
{
    memset(facets, 0, sizeof *facets);
    char path[1024];
    snprintf(path, sizeof path, "%s/facets.json", lang_dir);
    content_file_t file;
    if (content_file_load(path, &file, errs) != 0)
        return -1;

    int errors = 0;
    for (int kind = 0; kind < KB_FACET_COUNT; kind++)
        errors += load_facet(&facets->facets[kind], &file, kb_facet_names[kind],
                             errs);
    for (int kind = 0; kind < KB_FACET_COUNT && errors == 0; kind++)
        errors += load_also_matches(facets, kind, &file, errs);
    content_file_free(&file);

    facets->region_flanders =
        kb_facet_find(facets, KB_FACET_REGION, "vlaanderen");
    facets->region_belgium = kb_facet_find(facets, KB_FACET_REGION, "belgie");
    facets->region_brussels = kb_facet_find(facets, KB_FACET_REGION, "brussel");
    facets->sector_all = kb_facet_find(facets, KB_FACET_SECTOR, "alle");
    facets->size_large = kb_facet_find(facets, KB_FACET_SIZE, "groot");
    return errors ? -1 : 0;
}

/* Frees the copied strings; accepts a zeroed or partly loaded set. */
void kb_facets_free(kb_facets_t *facets)
{
    for (int kind = 0; kind < KB_FACET_COUNT; kind++) {
        kb_facet_t *facet = &facets->facets[kind];
        for (size_t i = 0; i < facet->count; i++) {
            free(facet->values[i].value);
            free(facet->values[i].label);
            free(facet->values[i].reason);
        }
        facet->count = 0;
    }
}
