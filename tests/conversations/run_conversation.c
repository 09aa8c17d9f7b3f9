/* Runs conversation tests: JSON files with a visitor's lines (and advisor
 * events) and what the bot must answer, show or do after each one. Loads
 * the real content from intents/, lang/, kb/ and dialogs/ in the working
 * directory. Usage: run_conversation [--show] FILE...
 * The format is described in docs/redacteurs.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "engine/engine.h"

typedef struct {
    const char *file;
    size_t turn;
    int failures;
} run_t;

static void fail(run_t *run, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "%s: turn %zu: ", run->file, run->turn + 1);
    fprintf(stderr, fmt, a, b ? b : "");
    fputc('\n', stderr);
    run->failures++;
}

/* Case-insensitive substring test. */
static int contains(const char *text, const char *part)
{
    size_t n = strlen(part);
    for (; *text; text++)
        if (!strncasecmp(text, part, n))
            return 1;
    return n == 0;
}

/* Applies `check` to a string or to each string of an array. */
#define EACH_STRING(spec, var, body)                                           \
    do {                                                                       \
        size_t i_;                                                             \
        json_t *item_;                                                         \
        if (json_is_string(spec)) {                                            \
            const char *var = json_string_value(spec);                         \
            body;                                                              \
        }                                                                      \
        json_array_foreach(spec, i_, item_)                                    \
        {                                                                      \
            const char *var = json_string_value(item_);                        \
            if (var)                                                           \
                body;                                                          \
        }                                                                      \
    } while (0)

static int any_bot_text(const json_t *messages, const char *part)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *from = json_string_value(json_object_get(m, "from"));
        const char *text = json_string_value(json_object_get(m, "text"));
        if (from && strcmp(from, "visitor") != 0 && text &&
            contains(text, part))
            return 1;
    }
    return 0;
}

static int has_quick_reply(const json_t *messages, const char *label)
{
    size_t i, j;
    json_t *m, *qr;
    json_array_foreach(messages, i, m)
        json_array_foreach(json_object_get(m, "quick_replies"), j, qr)
    {
        const char *l = json_string_value(json_object_get(qr, "label"));
        if (l && !strcasecmp(l, label))
            return 1;
    }
    return 0;
}

static size_t count_cards(const json_t *messages, const char *title)
{
    size_t count = 0, i, j;
    json_t *m, *card;
    json_array_foreach(messages, i, m)
        json_array_foreach(json_object_get(m, "cards"), j, card)
    {
        const char *t = json_string_value(json_object_get(card, "title"));
        if (!title || (t && contains(t, title))) {
            /* A card without reasons does not explain itself. */
            count++;
        }
    }
    return count;
}

/* Returns 1 when a reason ("why") of some card contains `part`. */
static int any_card_reason(const json_t *messages, const char *part)
{
    size_t i, j, k;
    json_t *m, *card, *why;
    json_array_foreach(messages, i, m)
        json_array_foreach(json_object_get(m, "cards"), j, card)
            json_array_foreach(json_object_get(card, "why"), k, why)
    {
        const char *text = json_string_value(why);
        if (text && contains(text, part))
            return 1;
    }
    return 0;
}

/* The title of the first card of the turn, or NULL. */
static const char *first_card_title(const json_t *messages)
{
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        json_t *cards = json_object_get(m, "cards");
        if (json_array_size(cards) > 0)
            return json_string_value(
                json_object_get(json_array_get(cards, 0), "title"));
    }
    return NULL;
}

/* Returns 1 when some effect has every field of `spec` with equal value. */
static int has_effect(const json_t *effects, const json_t *spec)
{
    size_t i;
    json_t *e;
    json_array_foreach(effects, i, e)
    {
        int all = 1;
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)spec, key, value)
        {
            if (!json_equal(json_object_get(e, key), value))
                all = 0;
        }
        if (all)
            return 1;
    }
    return 0;
}

static int count_from(const json_t *messages, const char *from)
{
    int n = 0;
    size_t i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *f = json_string_value(json_object_get(m, "from"));
        if (f && !strcmp(f, from))
            n++;
    }
    return n;
}

/* The number of lines in the texts of the turn's messages from the bot
 * and the system: what the visitor has to read. */
static size_t count_lines(const json_t *messages)
{
    size_t lines = 0, i;
    json_t *m;
    json_array_foreach(messages, i, m)
    {
        const char *from = json_string_value(json_object_get(m, "from"));
        const char *text = json_string_value(json_object_get(m, "text"));
        if (!from || !strcmp(from, "visitor") || !strcmp(from, "advisor") ||
            !text)
            continue;
        lines++;
        for (const char *p = text; *p; p++)
            lines += *p == '\n';
    }
    return lines;
}

static void check_turn(run_t *run, const json_t *expect,
                       const eng_output_t *out)
{
    const json_t *messages = out->messages;
    json_t *spec;
    EACH_STRING(json_object_get(expect, "bot_contains"), part, {
        if (!any_bot_text(messages, part))
            fail(run, "no message contains \"%s\"%s", part, "");
    });
    EACH_STRING(json_object_get(expect, "bot_not_contains"), part, {
        if (any_bot_text(messages, part))
            fail(run, "a message contains \"%s\"%s", part, "");
    });
    EACH_STRING(json_object_get(expect, "quick_reply"), label, {
        if (!has_quick_reply(messages, label))
            fail(run, "no quick reply labelled \"%s\"%s", label, "");
    });
    EACH_STRING(json_object_get(expect, "no_quick_reply"), label, {
        if (has_quick_reply(messages, label))
            fail(run, "a quick reply is labelled \"%s\"%s", label, "");
    });
    EACH_STRING(json_object_get(expect, "card"), title, {
        if (count_cards(messages, title) == 0)
            fail(run, "no card titled \"%s\"%s", title, "");
    });
    EACH_STRING(json_object_get(expect, "no_card"), title, {
        if (count_cards(messages, title) > 0)
            fail(run, "a card is titled \"%s\"%s", title, "");
    });
    EACH_STRING(json_object_get(expect, "why_contains"), part, {
        if (!any_card_reason(messages, part))
            fail(run, "no card reason contains \"%s\"%s", part, "");
    });
    EACH_STRING(json_object_get(expect, "why_not_contains"), part, {
        if (any_card_reason(messages, part))
            fail(run, "a card reason contains \"%s\"%s", part, "");
    });
    const char *first = first_card_title(messages);
    EACH_STRING(json_object_get(expect, "first_card"), title, {
        if (!first || !contains(first, title))
            fail(run, "the first card is \"%s\", expected \"%s\"",
                 first ? first : "(none)", title);
    });
    EACH_STRING(json_object_get(expect, "first_card_not"), title, {
        if (first && contains(first, title))
            fail(run, "the first card is \"%s\"%s", first, "");
    });
    if ((spec = json_object_get(expect, "cards_min"))) {
        size_t n = count_cards(messages, NULL);
        char got[32];
        snprintf(got, sizeof got, "%zu", n);
        if ((json_int_t)n < json_integer_value(spec))
            fail(run, "fewer cards than %s: %s", "cards_min", got);
    }
    if ((spec = json_object_get(expect, "cards_max"))) {
        size_t n = count_cards(messages, NULL);
        char got[32];
        snprintf(got, sizeof got, "%zu", n);
        if ((json_int_t)n > json_integer_value(spec))
            fail(run, "too many cards%s: %s", "", got);
    }
    if ((spec = json_object_get(expect, "lines_max"))) {
        size_t n = count_lines(messages);
        char got[32];
        snprintf(got, sizeof got, "%zu", n);
        if ((json_int_t)n > json_integer_value(spec))
            fail(run, "too many lines%s: %s", "", got);
    }
    if ((spec = json_object_get(expect, "messages_max"))) {
        size_t n = json_array_size(messages);
        char got[32];
        snprintf(got, sizeof got, "%zu", n);
        if ((json_int_t)n > json_integer_value(spec))
            fail(run, "too many messages%s: %s", "", got);
    }
    if (json_is_true(json_object_get(expect, "silent")) &&
        count_from(messages, "bot") > 0)
        fail(run, "the bot spoke but must be silent%s%s", "", "");
    EACH_STRING(json_object_get(expect, "from"), from, {
        if (count_from(messages, from) == 0)
            fail(run, "no message from \"%s\"%s", from, "");
    });

    spec = json_object_get(expect, "effect");
    if (json_is_object(spec) && !has_effect(out->effects, spec)) {
        char *s = json_dumps(spec, JSON_COMPACT);
        fail(run, "no effect matching %s%s", s, "");
        free(s);
    }
    size_t i;
    json_t *item;
    json_array_foreach(spec, i, item)
    {
        if (!has_effect(out->effects, item)) {
            char *s = json_dumps(item, JSON_COMPACT);
            fail(run, "no effect matching %s%s", s, "");
            free(s);
        }
    }
    EACH_STRING(json_object_get(expect, "no_effect"), type, {
        json_t *probe = json_pack("{s:s}", "type", type);
        if (has_effect(out->effects, probe))
            fail(run, "unexpected effect of type \"%s\"%s", type, "");
        json_decref(probe);
    });

    json_t *slots = json_object_get(out->state, "slots");
    const char *name;
    json_t *value;
    json_object_foreach(json_object_get(expect, "slots"), name, value)
    {
        json_t *slot = json_object_get(slots, name);
        const char *got = json_string_value(json_object_get(slot, "value"));
        if (json_is_null(value) ? slot != NULL
                                : !got || strcmp(got, json_string_value(value)))
            fail(run, "slot %s is \"%s\"", name, got ? got : "(not set)");
    }
    EACH_STRING(json_object_get(expect, "slot_unknown"), slot, {
        if (!json_is_true(
                json_object_get(json_object_get(slots, slot), "unknown")))
            fail(run, "slot %s is not marked unknown%s", slot, "");
    });
    const char *mode = json_string_value(json_object_get(expect, "mode"));
    if (mode && strcmp(mode, eng_state_mode(out->state)))
        fail(run, "mode is \"%s\", expected \"%s\"", eng_state_mode(out->state),
             mode);
    const char *node = json_string_value(json_object_get(expect, "node"));
    const char *at = json_string_value(json_object_get(out->state, "node"));
    if (node && (!at || strcmp(node, at)))
        fail(run, "node is \"%s\", expected \"%s\"", at ? at : "(none)", node);
}

static const struct {
    const char *name;
    eng_event_kind_t kind;
} event_names[] = {
    {"start", ENG_EV_START},
    {"advisor_joined", ENG_EV_ADVISOR_JOINED},
    {"advisor_text", ENG_EV_ADVISOR_TEXT},
    {"advisor_released", ENG_EV_ADVISOR_RELEASED},
    {"closed", ENG_EV_CLOSED},
    {"advisor_timeout", ENG_EV_ADVISOR_TIMEOUT},
};

static void show(const json_t *turn, const eng_output_t *out)
{
    const char *visitor = json_string_value(json_object_get(turn, "visitor"));
    const char *event = json_string_value(json_object_get(turn, "event"));
    const char *shown = "start";
    if (visitor)
        shown = visitor;
    else if (event)
        shown = event;
    printf("> %s\n", shown);
    size_t i;
    json_t *m;
    json_array_foreach(out->messages, i, m)
    {
        printf("%s: %s\n", json_string_value(json_object_get(m, "from")),
               json_string_value(json_object_get(m, "text")));
        size_t j;
        json_t *x;
        json_array_foreach(json_object_get(m, "cards"), j, x)
            printf("  [%s]\n", json_string_value(json_object_get(x, "title")));
        json_array_foreach(json_object_get(m, "quick_replies"), j, x)
            printf("  %zu) %s\n", j + 1,
                   json_string_value(json_object_get(x, "label")));
    }
    char *debug = json_dumps(out->debug, JSON_COMPACT);
    char *effects = json_dumps(out->effects, JSON_COMPACT);
    printf("  # %s\n  # effects %s\n", debug, effects);
    free(debug);
    free(effects);
}

/* `office_hours` is the server's default setting; a file may give its
 * own under "office_hours". */
static int run_file(const eng_content_t *content, const json_t *office_hours,
                    const char *path, int verbose)
{
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    run_t run = {.file = path};
    if (!root) {
        fprintf(stderr, "%s:%d:%d: %s\n", path, error.line, error.column,
                error.text);
        return 1;
    }
    int online =
        (int)json_integer_value(json_object_get(root, "advisors_online"));
    json_t *open = json_object_get(root, "office_open");
    int office_open = open ? json_is_true(open) : 1;
    json_t *hours = json_object_get(root, "office_hours");
    if (hours)
        office_hours = hours;

    /* Every conversation starts with the welcome. */
    eng_event_t event = {.kind = ENG_EV_START,
                         .advisors_online = online,
                         .office_open = office_open,
                         .office_hours = office_hours,
                         .now = 1700000000};
    eng_output_t out;
    if (eng_step(content, NULL, &event, &out) != 0) {
        json_decref(root);
        return 1;
    }
    json_t *state = json_incref(out.state);
    eng_output_free(&out);

    json_t *turns = json_object_get(root, "turns");
    json_t *turn;
    json_array_foreach(turns, run.turn, turn)
    {
        event = (eng_event_t){.kind = ENG_EV_VISITOR_TEXT,
                              .advisors_online = online,
                              .office_open = office_open,
                              .office_hours = office_hours,
                              .now = 1700000000 + (long long)run.turn * 30};
        json_t *v;
        if ((v = json_object_get(turn, "advisors_online")))
            event.advisors_online = (int)json_integer_value(v);
        if ((v = json_object_get(turn, "office_open")))
            event.office_open = json_is_true(v);
        const char *name = json_string_value(json_object_get(turn, "event"));
        if (name) {
            size_t k;
            for (k = 0; k < sizeof event_names / sizeof *event_names; k++)
                if (!strcmp(name, event_names[k].name))
                    break;
            if (k == sizeof event_names / sizeof *event_names) {
                fail(&run, "unknown event \"%s\"%s", name, "");
                continue;
            }
            event.kind = event_names[k].kind;
            event.advisor_name =
                json_string_value(json_object_get(turn, "advisor"));
            event.outcome = json_string_value(json_object_get(turn, "outcome"));
            event.text = json_string_value(json_object_get(turn, "text"));
        } else
            event.text = json_string_value(json_object_get(turn, "visitor"));

        if (eng_step(content, state, &event, &out) != 0) {
            fail(&run, "eng_step failed%s%s", "", "");
            break;
        }
        if (verbose)
            show(turn, &out);
        check_turn(&run, json_object_get(turn, "expect"), &out);
        json_decref(state);
        state = json_incref(out.state);
        eng_output_free(&out);
    }
    size_t turn_count = json_array_size(turns);
    json_decref(state);
    json_decref(root);
    if (run.failures == 0)
        printf("%s: %zu turns passed\n", path, turn_count);
    return run.failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    int verbose = argc > 1 && !strcmp(argv[1], "--show");
    int first = verbose ? 2 : 1;
    if (argc <= first) {
        fprintf(stderr, "usage: run_conversation [--show] FILE...\n");
        return 2;
    }
    content_errors_t errs = {0};
    eng_bundle_t *bundle =
        eng_bundle_load("intents", "lang", "kb", "dialogs", &errs);
    if (!bundle) {
        content_errors_print(&errs, stderr);
        fprintf(stderr, "content failed to load: %zu errors\n", errs.count);
        content_errors_free(&errs);
        return 1;
    }
    content_errors_free(&errs);
    cfg_t cfg;
    cfg_defaults(&cfg);
    int failed = 0;
    for (int i = first; i < argc; i++)
        failed +=
            run_file(&bundle->content, cfg.office_hours, argv[i], verbose);
    cfg_free(&cfg);
    eng_bundle_free(bundle);
    return failed ? 1 : 0;
}
