/* Ranking cases as data: each file under tests/knowledge/ranking/ names a
 * kb folder and lists queries with facets and the ids expected in the top
 * N. Run as: test_knowledge_ranking FILE. */
#include "kb_test.h"

#include <dirent.h>

static const char *case_file;

/* Returns 1 when `dir` holds at least one JSON file. */
static int has_json(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *ent;
    while (!found && (ent = readdir(d)) != NULL) {
        size_t n = strlen(ent->d_name);
        found = n > 5 && strcmp(ent->d_name + n - 5, ".json") == 0;
    }
    closedir(d);
    return found;
}

static const char *member(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

static void print_hits(const kb_hit_t *hits, size_t count)
{
    for (size_t i = 0; i < count; i++)
        fprintf(stderr, "    %zu. %s (%.2f)\n", i + 1, hits[i].id,
                hits[i].score);
}

/* Runs one case and returns the number of failed checks. */
static int run_case(kb_t *kb, const json_t *c, size_t index)
{
    const char *name = member(c, "name");
    const json_t *f = json_object_get(c, "filter");
    kb_filter_t filter = {
        .type = member(f, "type"),
        .level = member(f, "level"),
        .region = member(f, "region"),
        .sector = member(f, "sector"),
        .size = member(f, "size"),
        .goal = member(f, "goal"),
        .max_hours_per_month =
            json_number_value(json_object_get(f, "max_hours_per_month")),
        .least_time = json_is_true(json_object_get(f, "least_time"))};
    int recommend = json_is_true(json_object_get(c, "recommend"));
    size_t top = (size_t)json_integer_value(json_object_get(c, "top"));
    if (top == 0 || top > 32)
        top = 5;

    kb_hit_t hits[32];
    size_t count = 0;
    int failed = 0;
    int rc =
        recommend
            ? kb_recommend(kb, member(c, "text"), &filter, hits, top, &count)
            : kb_search(kb, member(c, "text"), &filter, hits, top, &count);
    if (rc != 0) {
        fprintf(stderr, "case %zu \"%s\": search failed\n", index, name);
        return 1;
    }

    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(c, "expect"), i, id)
    {
        if (rank_of(hits, count, json_string_value(id)) >= 0)
            continue;
        fprintf(stderr, "case %zu \"%s\": %s is not in the top %zu\n", index,
                name, json_string_value(id), top);
        failed++;
    }
    json_array_foreach(json_object_get(c, "absent"), i, id)
    {
        if (rank_of(hits, count, json_string_value(id)) < 0)
            continue;
        fprintf(stderr, "case %zu \"%s\": %s must not be in the top %zu\n",
                index, name, json_string_value(id), top);
        failed++;
    }
    const char *first = member(c, "first");
    if (first && (count == 0 || strcmp(hits[0].id, first) != 0)) {
        fprintf(stderr, "case %zu \"%s\": %s must rank first\n", index, name,
                first);
        failed++;
    }
    const char *key;
    json_t *reasons;
    json_object_foreach(json_object_get(c, "reasons"), key, reasons)
    {
        int rank = rank_of(hits, count, key);
        json_t *text;
        json_array_foreach(reasons, i, text)
        {
            if (rank >= 0 && has_reason(&hits[rank], json_string_value(text)))
                continue;
            fprintf(stderr, "case %zu \"%s\": %s lacks reason \"%s\"\n", index,
                    name, key, json_string_value(text));
            failed++;
        }
    }
    /* "no_reason": texts that no reason of any hit may contain. */
    json_array_foreach(json_object_get(c, "no_reason"), i, id)
    {
        for (size_t h = 0; h < count; h++) {
            for (size_t r = 0; r < hits[h].reason_count; r++) {
                if (!strstr(hits[h].reasons[r], json_string_value(id)))
                    continue;
                fprintf(stderr, "case %zu \"%s\": %s has reason \"%s\"\n",
                        index, name, hits[h].id, hits[h].reasons[r]);
                failed++;
            }
        }
    }
    if (failed)
        print_hits(hits, count);
    return failed;
}

static void test_ranking_file(void **state)
{
    (void)state;
    json_error_t error;
    json_t *root = json_load_file(case_file, 0, &error);
    if (!root)
        fail_msg("%s:%d:%d: %s", case_file, error.line, error.column,
                 error.text);
    const char *dir = member(root, "kb");
    assert_non_null(dir);
    kb_t *kb = load_valid(dir);
    int failed = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(root, "cases"), i, c) failed +=
        run_case(kb, c, i);
    size_t cases = json_array_size(json_object_get(root, "cases"));
    kb_free(kb);
    json_decref(root);
    assert_true(cases > 0);
    assert_int_equal(failed, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s RANKING_FILE\n", argv[0]);
        return 2;
    }
    case_file = argv[1];

    /* ctest reports exit status 77 as skipped. */
    json_t *root = json_load_file(case_file, 0, NULL);
    const char *dir = member(root, "kb");
    if (dir && !has_json(dir)) {
        fprintf(stderr, "skipped: %s holds no kb files\n", dir);
        json_decref(root);
        return 77;
    }
    json_decref(root);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
