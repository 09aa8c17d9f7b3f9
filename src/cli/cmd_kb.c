/* stemdesk kb: search the knowledge base from the terminal, or show one
 * entry, with the same ranking and reasons the desk uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/config.h"
#include "knowledge/kb.h"

#define KB_USAGE                                                               \
    "usage: stemdesk kb search TEXT [OPTIONS]\n"                               \
    "       stemdesk kb show ID\n\n"                                           \
    "Searches the knowledge base like the desk does and prints the hits, "     \
    "best\nfirst, with their score and the reasons they fit. TEXT may be "     \
    "empty (\"\")\nto rank by the facets alone. With --recommend it ranks "    \
    "initiatives as the\ndesk's recommendations do."

#define POSITIONAL_MAX 64

typedef struct {
    const char *level, *region, *sector, *size, *goal, *type;
    const char *max_hours, *limit, *json, *recommend, *least_time;
} kb_options_t;

/* Checks a facet option against the ids the kb knows; prints the valid
 * ids and returns -1 when it is not one of them. */
static int check_facet(const kb_t *kb, const char *facet, const char *flag,
                       const char *value)
{
    const char *values[64];
    size_t n = kb_facet_values(kb, facet, values, 64);
    if (!value)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(values[i], value) == 0)
            return 0;
    fprintf(stderr, "stemdesk kb: unknown %s \"%s\" for --%s; expected one of ",
            facet, value, flag);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", values[i]);
    fprintf(stderr, "\n");
    return -1;
}

/* Parses a positive number option; prints an error and returns -1. */
static int parse_number(const char *flag, const char *text, double max,
                        double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (!end || end == text || *end || !(value > 0) || value > max) {
        fprintf(stderr,
                "stemdesk kb: invalid --%s \"%s\"; expected a number above "
                "0 and at most %g\n",
                flag, text, max);
        return -1;
    }
    *out = value;
    return 0;
}

static void print_hits_json(const kb_hit_t *hits, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++) {
        json_t *reasons = json_array();
        for (size_t r = 0; r < hits[i].reason_count; r++)
            json_array_append_new(reasons, json_string(hits[i].reasons[r]));
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:f, s:o}", "id",
                            hits[i].id, "type", hits[i].type, "title",
                            hits[i].title, "summary", hits[i].summary, "url",
                            hits[i].url[0] ? hits[i].url : NULL, "score",
                            hits[i].score, "reasons", reasons));
    }
    char *text = json_dumps(list, JSON_INDENT(2));
    if (text)
        puts(text);
    free(text);
    json_decref(list);
}

static void print_hits_text(const kb_hit_t *hits, size_t count)
{
    if (count == 0)
        printf("no entries match\n");
    for (size_t i = 0; i < count; i++) {
        printf("%zu. %s  [%s, %s]  score %.2f\n", i + 1, hits[i].title,
               hits[i].type, hits[i].id, hits[i].score);
        if (hits[i].url[0])
            printf("   %s\n", hits[i].url);
        for (size_t r = 0; r < hits[i].reason_count; r++)
            printf("   - %s\n", hits[i].reasons[r]);
    }
}

static int run_search(kb_t *kb, const char *text, const kb_options_t *o)
{
    if (check_facet(kb, "level", "level", o->level) ||
        check_facet(kb, "region", "region", o->region) ||
        check_facet(kb, "sector", "sector", o->sector) ||
        check_facet(kb, "size", "size", o->size) ||
        check_facet(kb, "goal", "goal", o->goal) ||
        check_facet(kb, "type", "type", o->type))
        return 2;
    kb_filter_t filter = {.type = o->type,
                          .level = o->level,
                          .region = o->region,
                          .sector = o->sector,
                          .size = o->size,
                          .goal = o->goal,
                          .least_time = o->least_time != NULL};
    double limit = 5;
    if (o->max_hours && parse_number("max-hours", o->max_hours, 1000,
                                     &filter.max_hours_per_month) != 0)
        return 2;
    if (o->limit && parse_number("limit", o->limit, 100, &limit) != 0)
        return 2;

    size_t max = (size_t)limit, count = 0;
    kb_hit_t *hits = calloc(max, sizeof *hits);
    int rc = -1;
    if (hits && o->recommend)
        rc = kb_recommend(kb, text, &filter, hits, max, &count);
    else if (hits)
        rc = kb_search(kb, text, &filter, hits, max, &count);
    if (rc != 0) {
        fprintf(stderr, "stemdesk kb: search failed\n");
        free(hits);
        return 1;
    }
    if (o->json)
        print_hits_json(hits, count);
    else
        print_hits_text(hits, count);
    free(hits);
    return 0;
}

static int run_show(const kb_t *kb, const char *id)
{
    const json_t *entry = kb_entry(kb, id);
    if (!entry) {
        fprintf(stderr,
                "stemdesk kb: no entry with id \"%s\"; run 'stemdesk kb "
                "search' to find ids\n",
                id);
        return 1;
    }
    char *text = json_dumps(entry, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text)
        puts(text);
    free(text);
    return 0;
}

/* Joins the words after the action into one text; the caller frees it. */
static char *join_words(const char **words, size_t count)
{
    size_t size = 1;
    for (size_t i = 0; i < count; i++)
        size += strlen(words[i]) + 1;
    char *text = malloc(size);
    if (!text)
        return NULL;
    text[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        if (i)
            strcat(text, " ");
        strcat(text, words[i]);
    }
    return text;
}

int cmd_kb(int argc, char **argv)
{
    cfg_t cfg;
    cfg_defaults(&cfg);
    kb_options_t o = {0};
    const cli_flag_t flags[] = {
        {"level", "L", "education level id, e.g. so2", &o.level},
        {"region", "R", "region id, e.g. limburg", &o.region},
        {"sector", "S", "sector id, e.g. voeding", &o.sector},
        {"size", "S", "company size id: klein, middelgroot or groot", &o.size},
        {"goal", "G", "company goal id, e.g. talent", &o.goal},
        {"type", "T", "entry type, e.g. initiative", &o.type},
        {"max-hours", "N", "hours per month the company can give",
         &o.max_hours},
        {"limit", "N", "number of hits to print (default 5)", &o.limit},
        {"json", NULL, "print the hits as JSON", &o.json},
        {"recommend", NULL,
         "rank initiatives as the desk recommends them: fill up with "
         "entries that fail some facets, those that need more time last",
         &o.recommend},
        {"least-time", NULL,
         "with --recommend: the initiatives for the level that need the "
         "least time first",
         &o.least_time},
    };
    const char *positional[POSITIONAL_MAX];
    size_t positional_count;
    int rc = cli_parse(&cfg, "kb", KB_USAGE, argc, argv, flags,
                       sizeof flags / sizeof *flags, positional, POSITIONAL_MAX,
                       &positional_count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }
    const char *action = positional_count ? positional[0] : "";
    int search = strcmp(action, "search") == 0;
    if (!search && !(strcmp(action, "show") == 0 && positional_count == 2)) {
        fprintf(stderr, "%s\n", KB_USAGE);
        cfg_free(&cfg);
        return 2;
    }

    content_errors_t errs = {0};
    kb_t *kb = kb_load(cfg.kb_dir, cfg.lang_dir, &errs);
    if (!kb) {
        content_errors_print(&errs, stderr);
        fprintf(stderr, "stemdesk kb: the knowledge base has %zu error%s\n",
                errs.count, errs.count == 1 ? "" : "s");
        content_errors_free(&errs);
        cfg_free(&cfg);
        return 1;
    }
    content_errors_free(&errs);

    if (search) {
        char *text = join_words(positional + 1, positional_count - 1);
        rc = text ? run_search(kb, text, &o) : 1;
        free(text);
    } else {
        rc = run_show(kb, positional[1]);
    }
    kb_free(kb);
    cfg_free(&cfg);
    return rc;
}
