/* `stemdesk chat`: talk to the bot in a terminal or through a pipe. Drives
 * the same eng_step() as the server; advisors are simulated as offline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/config.h"
#include "engine/engine.h"

static void print_messages(const json_t *messages)
{
    size_t i;
    json_t *msg;
    json_array_foreach(messages, i, msg)
    {
        const char *from = json_string_value(json_object_get(msg, "from"));
        printf("%s: %s\n", from ? from : "bot",
               json_string_value(json_object_get(msg, "text")));
        size_t j;
        json_t *card;
        json_array_foreach(json_object_get(msg, "cards"), j, card)
        {
            json_t *url = json_object_get(card, "url");
            printf("  [%s]%s%s\n",
                   json_string_value(json_object_get(card, "title")),
                   json_is_string(url) ? " " : "",
                   json_is_string(url) ? json_string_value(url) : "");
            printf("    %s\n",
                   json_string_value(json_object_get(card, "summary")));
            size_t k;
            json_t *why;
            json_array_foreach(json_object_get(card, "why"), k, why)
                printf("    + %s\n", json_string_value(why));
        }
        json_t *qr;
        json_array_foreach(json_object_get(msg, "quick_replies"), j, qr)
            printf("  %zu) %s\n", j + 1,
                   json_string_value(json_object_get(qr, "label")));
    }
}

static void print_debug(const eng_output_t *out)
{
    char *debug = json_dumps(out->debug, JSON_COMPACT | JSON_SORT_KEYS);
    char *effects = json_dumps(out->effects, JSON_COMPACT);
    printf("  # debug %s\n", debug ? debug : "{}");
    if (json_array_size(out->effects))
        printf("  # effects %s\n", effects ? effects : "[]");
    free(debug);
    free(effects);
}

/* Replaces a typed number by the value of that quick reply of the last
 * message that offered some. */
static const char *pick_quick_reply(const json_t *offered, const char *line)
{
    char *end;
    long n = strtol(line, &end, 10);
    if (end == line || *end != '\0' || n < 1 ||
        (size_t)n > json_array_size(offered))
        return line;
    return json_string_value(
        json_object_get(json_array_get(offered, (size_t)n - 1), "value"));
}

static int run_chat(eng_bundle_t *bundle, const json_t *office_hours, int debug)
{
    eng_event_t event = {.kind = ENG_EV_START,
                         .office_hours = office_hours,
                         .now = (long long)time(NULL)};
    eng_output_t out;
    if (eng_step(&bundle->content, NULL, &event, &out) != 0) {
        fprintf(stderr, "chat: out of memory\n");
        return 1;
    }
    json_t *state = json_incref(out.state);
    json_t *offered = json_array();
    print_messages(out.messages);
    if (debug)
        print_debug(&out);

    char line[2048];
    for (;;) {
        /* Remember the quick replies of the last message that had some. */
        size_t i;
        json_t *msg;
        json_array_foreach(out.messages, i, msg)
        {
            json_t *qr = json_object_get(msg, "quick_replies");
            if (qr) {
                json_decref(offered);
                offered = json_incref(qr);
            }
        }
        eng_output_free(&out);
        if (!fgets(line, sizeof line, stdin))
            break;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            continue;
        event = (eng_event_t){.kind = ENG_EV_VISITOR_TEXT,
                              .text = pick_quick_reply(offered, line),
                              .office_hours = office_hours,
                              .now = (long long)time(NULL)};
        if (eng_step(&bundle->content, state, &event, &out) != 0) {
            fprintf(stderr, "chat: out of memory\n");
            break;
        }
        json_decref(state);
        state = json_incref(out.state);
        printf("> %s\n", line);
        print_messages(out.messages);
        if (debug)
            print_debug(&out);
        fflush(stdout);
    }
    json_decref(offered);
    json_decref(state);
    return 0;
}

int cmd_chat(int argc, char **argv)
{
    cfg_t cfg;
    cfg_defaults(&cfg);
    const char *debug = NULL;
    const cli_flag_t flags[] = {
        {"debug", NULL, "print intent, score, entities and slots per turn",
         &debug},
    };
    const char *positional[1];
    size_t positional_count;
    int rc = cli_parse(&cfg, "chat",
                       "usage: stemdesk chat [--debug] [OPTIONS]\n\n"
                       "Talks to the bot: reads one visitor line at a time "
                       "from standard input.\nType the number of a quick "
                       "reply to pick it. Works in a pipe.",
                       argc, argv, flags, sizeof flags / sizeof *flags,
                       positional, 0, &positional_count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }

    content_errors_t errs = {0};
    eng_bundle_t *bundle = eng_bundle_load(cfg.intents_dir, cfg.lang_dir,
                                           cfg.kb_dir, cfg.dialogs_dir, &errs);
    if (!bundle) {
        content_errors_print(&errs, stderr);
        fprintf(stderr,
                "chat: content has %zu error%s; fix them and run "
                "'stemdesk check'\n",
                errs.count, errs.count == 1 ? "" : "s");
        content_errors_free(&errs);
        cfg_free(&cfg);
        return 1;
    }
    content_errors_free(&errs);
    rc = run_chat(bundle, cfg.office_hours, debug != NULL);
    eng_bundle_free(bundle);
    cfg_free(&cfg);
    return rc;
}
