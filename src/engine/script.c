/* Loading and checking of the dialog scripts in dialogs/: every file is
 * read, every value type-checked, then references between files (nodes,
 * slots, intents, kb entries) and the shape of the graph (reachable nodes,
 * a way out of every node) are checked. All errors are collected. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

/* Texts that the engine itself says; each must exist in some file. */
static const char *const required_texts[] = {
    "clarify",           "fallback",          "slot_changed",
    "slot_unknown",      "advisor_joined",    "advisor_released",
    "advisor_waiting",   "advisor_busy",      "closed",
    "contact_invalid",   "results_intro",     "no_results",
    "checklist_intro",   "route_intro",       "no_entry",
    "summary_unknown",   "time_value",        "route_step",
    "slot_skipped",      "slots_noted",       "time_value_about",
    "time_value_year",   "office_weekdays",   "office_days_every",
    "office_days_range", "office_days_list",  "office_hours_span",
    "office_and",        "office_hours_none", "contact_added",
    "clarify_choose",    "compare_intro",
};

/* Placeholders that the engine fills in node prompts and in every text
 * not listed in own_placeholders. */
static const char *const general_placeholders[] = {
    "summary",       "entry", "partner",      "advisor", "changed_label",
    "changed_value", "noted", "office_hours", NULL};

/* Texts filled with placeholders of their own; with `required`, the text
 * must use each of them. */
static const struct {
    const char *text;
    const char *placeholders[5]; /* NULL-terminated */
    int required;
} own_placeholders[] = {
    {"time_value", {"number", NULL}, 0},
    {"time_value_about", {"number", NULL}, 0},
    {"time_value_year", {"number", NULL}, 0},
    {"summary_unknown", {"label", "slot", NULL}, 0},
    {"route_step", {"order", "title", "dos", "donts", NULL}, 0},
    {"office_weekdays", {NULL}, 0},
    {"office_days_every", {NULL}, 0},
    {"office_days_range", {"first", "last", NULL}, 1},
    {"office_days_list", {"days", NULL}, 1},
    {"office_hours_span", {"days", "open", "close", NULL}, 1},
    {"office_and", {NULL}, 0},
    {"office_hours_none", {NULL}, 0},
};

/* Keys of actions that name a node to jump to: goto's "node",
 * show_checklist's "overview", show_route's "step_node" and "last_node",
 * and describe_entry's "none". */
static const char *const action_node_keys[] = {"node", "overview", "step_node",
                                               "last_node", "none"};

/* Placeholders of a slot's "summary". */
static const char *const summary_placeholders[] = {"label", "slot", NULL};

static const char *const entity_kinds[] = {"region", "level",  "time",
                                           "size",   "sector", "goal"};

static const char *const escalate_reasons[] = {"unsure", "visitor_request",
                                               "frustration", "out_of_scope",
                                               "tailored_advice"};

static const char *const entry_fields[] = {
    "summary", "effort", "benefits", "how_to_join", "guidance", "body"};

typedef struct {
    content_file_t *files;
    size_t file_count;
    json_t *origin; /* "nodes/ID", "slots/NAME"... -> file index */
    content_errors_t *errs;
    const nlu_model_t *nlu;
    const kb_t *kb;
    dlg_script_t *script;
} loader_t;

static int in_list(const char *value, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(value, list[i]) == 0)
            return 1;
    return 0;
}

#define IN_LIST(value, list) in_list(value, list, sizeof list / sizeof *list)

static const content_file_t *origin_file(loader_t *ld, const char *section,
                                         const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", section, name);
    json_t *index = json_object_get(ld->origin, key);
    if (!index)
        return NULL;
    return &ld->files[json_integer_value(index)];
}

/* Adds an error at `pointer` below /section/name of the file that defined
 * the item. */
#define ITEM_ERROR(ld, section, name, sub, hint, ...)                          \
    do {                                                                       \
        char ptr_[320];                                                        \
        snprintf(ptr_, sizeof ptr_, "/%s/%s%s", section, name, sub);           \
        content_error_at((ld)->errs, origin_file(ld, section, name), ptr_,     \
                         hint, __VA_ARGS__);                                   \
    } while (0)

/* Rejects keys that are not in `allowed` (a NULL-terminated list). */
static void check_keys(loader_t *ld, const content_file_t *file,
                       const char *pointer, const json_t *object,
                       const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value)
    {
        int known = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                known = 1;
        if (known)
            continue;
        char hint[256] = "allowed keys:";
        for (size_t i = 0; allowed[i]; i++) {
            strncat(hint, " ", sizeof hint - strlen(hint) - 1);
            strncat(hint, allowed[i], sizeof hint - strlen(hint) - 1);
        }
        char ptr[320];
        snprintf(ptr, sizeof ptr, "%s/%s", pointer, key);
        content_error_at(ld->errs, file, ptr, hint, "unknown key \"%s\"", key);
    }
}

static int is_identifier(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* A prompt is a non-empty string or a non-empty array of them. */
static int is_prompt(const json_t *v)
{
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) if (!json_is_string(item) ||
                                       json_string_length(item) == 0) return 0;
    return 1;
}

/* Returns 1 for a non-empty array of non-empty strings. */
static int is_string_list(const json_t *v)
{
    return json_is_array(v) && is_prompt(v);
}

/* Returns 1 when `v` is absent or an object that maps names to arrays of
 * strings ({"tax": ["btw", "belasting"]}), with identifier names when
 * `identifier_keys` is set. */
static int is_word_map(const json_t *v, int identifier_keys)
{
    if (!v)
        return 1;
    if (!json_is_object(v))
        return 0;
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item)
    {
        if (!json_is_array(item) || (identifier_keys && !is_identifier(key)))
            return 0;
        size_t index;
        json_t *word;
        json_array_foreach(item, index, word)
        {
            if (!json_is_string(word))
                return 0;
        }
    }
    return 1;
}

/* ---- policy.json ---- */

static void load_policy(loader_t *ld, const content_file_t *file)
{
    static const char *const keys[] = {"clarify_below",
                                       "escalate_after_unsure",
                                       "cards_min",
                                       "cards_max",
                                       "tailored_advice_words",
                                       "start_node",
                                       "orientation_node",
                                       "unsure_node",
                                       "callback_node",
                                       "no_consent_node",
                                       "cancel_words",
                                       "not_names",
                                       "route_first_intents",
                                       "question_intents",
                                       "entry_intents",
                                       "reference_words",
                                       "reference_filler_words",
                                       "entry_intent_words",
                                       "ordinal_words",
                                       "option_number_words",
                                       "answer_filler_words",
                                       "compare_words",
                                       "compare_joiners",
                                       "out_of_scope_topics",
                                       "clarify_never",
                                       "unknown_name_node",
                                       "note",
                                       NULL};
    dlg_script_t *s = ld->script;
    json_t *root = file->root;
    check_keys(ld, file, "", root, keys);
    json_decref(s->policy);
    s->policy = json_incref(root);

    json_t *v = json_object_get(root, "clarify_below");
    if (!json_is_number(v) || json_number_value(v) < 0 ||
        json_number_value(v) > 1)
        content_error_at(ld->errs, file, v ? "/clarify_below" : "",
                         "write a number such as 0.45",
                         "clarify_below must be a number from 0 to 1");
    else
        s->clarify_below = json_number_value(v);

    struct {
        const char *key;
        int *field;
        int min;
    } ints[] = {{"escalate_after_unsure", &s->escalate_after_unsure, 1},
                {"cards_min", &s->cards_min, 1},
                {"cards_max", &s->cards_max, 1}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/%s", ints[i].key);
        v = json_object_get(root, ints[i].key);
        if (!json_is_integer(v) || json_integer_value(v) < ints[i].min)
            content_error_at(ld->errs, file, v ? ptr : "",
                             "write a whole number of 1 or more",
                             "%s must be a whole number >= %d", ints[i].key,
                             ints[i].min);
        else
            *ints[i].field = (int)json_integer_value(v);
    }
    if (s->cards_min > s->cards_max)
        content_error_at(ld->errs, file, "/cards_min",
                         "make cards_min at most cards_max",
                         "cards_min %d is larger than cards_max %d",
                         s->cards_min, s->cards_max);

    v = json_object_get(root, "tailored_advice_words");
    int words_ok = json_is_array(v);
    size_t i, index;
    json_t *word;
    if (words_ok)
        json_array_foreach(v, i, word) if (!json_is_string(word)) words_ok = 0;
    if (!words_ok)
        content_error_at(ld->errs, file, v ? "/tailored_advice_words" : "",
                         "write an array of lower-case words, e.g. "
                         "[\"subsidie\"]",
                         "tailored_advice_words must be an array of strings");

    const char *lists[] = {
        "cancel_words",           "not_names",           "route_first_intents",
        "question_intents",       "entry_intents",       "reference_words",
        "reference_filler_words", "option_number_words", "answer_filler_words",
        "compare_words",          "compare_joiners",     "clarify_never"};
    for (i = 0; i < sizeof lists / sizeof *lists; i++) {
        v = json_object_get(root, lists[i]);
        int ok = !v || json_is_array(v);
        json_array_foreach(v, index, word) if (!json_is_string(word)) ok = 0;
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/%s", lists[i]);
        if (!ok)
            content_error_at(ld->errs, file, ptr,
                             "write an array of strings, e.g. [\"stop\"]",
                             "%s must be an array of strings", lists[i]);
    }

    /* "ordinal_words": {"eerste": 1, ..., "laatste": -1}. */
    v = json_object_get(root, "ordinal_words");
    const char *key;
    json_t *item;
    int ordinals_ok = !v || json_is_object(v);
    json_object_foreach(v, key, item) if (!json_is_integer(item) ||
                                          json_integer_value(item) == 0)
        ordinals_ok = 0;
    if (!ordinals_ok)
        content_error_at(ld->errs, file, "/ordinal_words",
                         "write {\"eerste\": 1, \"laatste\": -1}",
                         "ordinal_words must map words to positions (1 is the "
                         "first card, -1 the last)");

    /* "out_of_scope_topics": {"tax": ["btw", ...], ...}. */
    v = json_object_get(root, "out_of_scope_topics");
    if (!is_word_map(v, 1))
        content_error_at(ld->errs, file, "/out_of_scope_topics",
                         "write {\"tax\": [\"btw\", \"belasting\"]}",
                         "out_of_scope_topics must map topic names to arrays "
                         "of words");

    /* "entry_intent_words": {"effort_cost": ["kost", ...], ...}. */
    v = json_object_get(root, "entry_intent_words");
    if (!is_word_map(v, 0))
        content_error_at(ld->errs, file, "/entry_intent_words",
                         "write {\"effort_cost\": [\"kost\", \"prijs\"]}",
                         "entry_intent_words must map intent names to arrays "
                         "of words");

    const char *node_keys[] = {"start_node", "orientation_node", "unsure_node",
                               "callback_node", "no_consent_node"};
    const char **fields[] = {&s->start_node, &s->orientation_node,
                             &s->unsure_node, &s->callback_node,
                             &s->no_consent_node};
    for (i = 0; i < 5; i++) {
        v = json_object_get(root, node_keys[i]);
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/%s", node_keys[i]);
        if (!json_is_string(v))
            content_error_at(ld->errs, file, v ? ptr : "",
                             "write the id of a node", "%s must name a node",
                             node_keys[i]);
        else
            *fields[i] = json_string_value(v);
    }
    v = json_object_get(root, "unknown_name_node");
    if (v && !json_is_string(v))
        content_error_at(ld->errs, file, "/unknown_name_node",
                         "write the id of a node",
                         "unknown_name_node must name a node");
    s->unknown_name_node = json_string_value(v);
}

/* ---- shared checks ---- */

static void check_quick_replies(loader_t *ld, const content_file_t *file,
                                const char *pointer, const json_t *qr)
{
    static const char *const keys[] = {"label", "value", NULL};
    if (!json_is_array(qr)) {
        content_error_at(ld->errs, file, pointer,
                         "write [{\"label\": \"Ja\", \"value\": "
                         "\"intent:affirm\"}]",
                         "quick_replies must be an array");
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(qr, i, item)
    {
        char ptr[320];
        snprintf(ptr, sizeof ptr, "%s/%zu", pointer, i);
        if (!json_is_object(item) ||
            !json_is_string(json_object_get(item, "label")) ||
            !json_is_string(json_object_get(item, "value"))) {
            content_error_at(ld->errs, file, ptr,
                             "write {\"label\": \"...\", \"value\": \"...\"}",
                             "a quick reply needs a string label and value");
            continue;
        }
        check_keys(ld, file, ptr, item, keys);
    }
}

/* Conditions are checked for types here and for references later. */
static void check_condition(loader_t *ld, const content_file_t *file,
                            const char *pointer, const json_t *when)
{
    static const char *const keys[] = {"intent",
                                       "slot_missing",
                                       "slot_set",
                                       "slot_is",
                                       "filled_any",
                                       "named_entry",
                                       "advisor_available",
                                       "office_open",
                                       "partner_found",
                                       "consent",
                                       "reason",
                                       "topic",
                                       "words",
                                       "callback_stored",
                                       NULL};
    if (!json_is_object(when)) {
        content_error_at(ld->errs, file, pointer,
                         "write an object such as {\"intent\": \"affirm\"}",
                         "a condition must be an object");
        return;
    }
    check_keys(ld, file, pointer, when, keys);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)when, key, v)
    {
        char ptr[320];
        snprintf(ptr, sizeof ptr, "%s/%s", pointer, key);
        int ok = 1;
        if (!strcmp(key, "filled_any") || !strcmp(key, "named_entry") ||
            !strcmp(key, "advisor_available") || !strcmp(key, "office_open") ||
            !strcmp(key, "partner_found") || !strcmp(key, "consent") ||
            !strcmp(key, "callback_stored"))
            ok = json_is_boolean(v);
        else if (!strcmp(key, "words"))
            ok = is_string_list(v);
        else if (!strcmp(key, "slot_is"))
            ok = json_is_object(v);
        else if (!strcmp(key, "intent") || !strcmp(key, "reason")) {
            ok = json_is_string(v) || json_is_array(v);
            size_t i;
            json_t *item;
            if (json_is_array(v))
                json_array_foreach(v, i, item) if (!json_is_string(item)) ok =
                    0;
        } else
            ok = json_is_string(v);
        if (!ok)
            content_error_at(ld->errs, file, ptr,
                             "see docs/dialogs.md for the condition types",
                             "condition \"%s\" has the wrong type", key);
    }
}

static void check_goto_list(loader_t *ld, const content_file_t *file,
                            const char *pointer, const json_t *list)
{
    static const char *const keys[] = {"when", "goto", NULL};
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char ptr[320];
        snprintf(ptr, sizeof ptr, "%s/%zu", pointer, i);
        if (!json_is_object(item) ||
            !json_is_string(json_object_get(item, "goto"))) {
            content_error_at(ld->errs, file, ptr,
                             "write {\"when\": {...}, \"goto\": \"node\"}",
                             "each entry needs a \"goto\" node");
            continue;
        }
        check_keys(ld, file, ptr, item, keys);
        json_t *when = json_object_get(item, "when");
        if (when) {
            char wptr[340];
            snprintf(wptr, sizeof wptr, "%s/when", ptr);
            check_condition(ld, file, wptr, when);
        }
    }
}

static void check_action(loader_t *ld, const content_file_t *file,
                         const char *pointer, const json_t *action)
{
    static const struct {
        const char *name;
        const char *keys[6];
    } actions[] = {
        {"search_kb", {"do", "say", "order", NULL}},
        {"show_checklist", {"do", "say", "overview", NULL}},
        {"show_route", {"do", "say", "step_node", "last_node", NULL}},
        {"describe_entry", {"do", "field", "entry", "none", NULL}},
        {"offer_partner", {"do", NULL}},
        {"forward_partner", {"do", "reason", NULL}},
        {"escalate", {"do", "reason", NULL}},
        {"wait_advisor", {"do", NULL}},
        {"ask_consent", {"do", NULL}},
        {"collect_contact", {"do", NULL}},
        {"set_slot", {"do", "slot", "value", NULL}},
        {"clear_slot", {"do", "slot", NULL}},
        {"unanswered", {"do", NULL}},
        {"goto", {"do", "node", NULL}},
        {"end", {"do", NULL}},
    };
    const char *name = json_string_value(json_object_get(action, "do"));
    if (!json_is_object(action) || !name) {
        content_error_at(ld->errs, file, pointer,
                         "write {\"do\": \"search_kb\"} or another action",
                         "an action must be an object with \"do\"");
        return;
    }
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++) {
        if (strcmp(actions[i].name, name) != 0)
            continue;
        check_keys(ld, file, pointer, action, actions[i].keys);
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)action, key, v)
        {
            char ptr[320];
            snprintf(ptr, sizeof ptr, "%s/%s", pointer, key);
            if (!strcmp(key, "say") ? !is_prompt(v) : !json_is_string(v))
                content_error_at(ld->errs, file, ptr,
                                 "write a string (say: a string or an array "
                                 "of strings)",
                                 "\"%s\" of action %s has the wrong type", key,
                                 name);
        }
        json_t *reason = json_object_get(action, "reason");
        if (!strcmp(name, "escalate") && json_is_string(reason) &&
            !IN_LIST(json_string_value(reason), escalate_reasons)) {
            char ptr[320];
            snprintf(ptr, sizeof ptr, "%s/reason", pointer);
            content_error_at(ld->errs, file, ptr,
                             "use unsure, visitor_request, frustration, "
                             "out_of_scope or tailored_advice",
                             "unknown escalation reason \"%s\"",
                             json_string_value(reason));
        }
        json_t *order = json_object_get(action, "order");
        if (json_is_string(order) &&
            strcmp(json_string_value(order), "least_time") != 0) {
            char ptr[320];
            snprintf(ptr, sizeof ptr, "%s/order", pointer);
            content_error_at(ld->errs, file, ptr,
                             "use \"least_time\", or leave it out",
                             "unknown order \"%s\"", json_string_value(order));
        }
        json_t *field = json_object_get(action, "field");
        if (json_is_string(field) &&
            !IN_LIST(json_string_value(field), entry_fields)) {
            char ptr[320];
            snprintf(ptr, sizeof ptr, "%s/field", pointer);
            content_error_at(ld->errs, file, ptr,
                             "use summary, effort, benefits, how_to_join, "
                             "guidance or body",
                             "unknown entry field \"%s\"",
                             json_string_value(field));
        }
        if ((!strcmp(name, "set_slot") || !strcmp(name, "clear_slot")) &&
            !json_object_get(action, "slot"))
            content_error_at(ld->errs, file, pointer, "add \"slot\": \"name\"",
                             "action %s needs a slot", name);
        if (!strcmp(name, "goto") && !json_object_get(action, "node"))
            content_error_at(ld->errs, file, pointer, "add \"node\": \"id\"",
                             "action goto needs a node");
        return;
    }
    char ptr[320];
    snprintf(ptr, sizeof ptr, "%s/do", pointer);
    content_error_at(ld->errs, file, ptr,
                     "use one of the actions listed in docs/dialogs.md",
                     "unknown action \"%s\"", name);
}

/* "answers": [{"text": ["weinig", ...], "value": "slot:time=2"}], or with
 * "words": ["klein"] in place of, or beside, "text". */
static void check_answers(loader_t *ld, const content_file_t *file,
                          const char *base, const json_t *answers)
{
    static const char *const keys[] = {"text", "words", "value", NULL};
    char ptr[360];
    snprintf(ptr, sizeof ptr, "%s/answers", base);
    if (!json_is_array(answers)) {
        content_error_at(ld->errs, file, ptr,
                         "write [{\"text\": [\"weinig\"], \"value\": "
                         "\"slot:time=2\"}]",
                         "answers must be an array");
        return;
    }
    size_t i;
    json_t *answer;
    json_array_foreach(answers, i, answer)
    {
        char item[400];
        snprintf(item, sizeof item, "%s/%zu", ptr, i);
        json_t *text = json_object_get(answer, "text");
        json_t *words = json_object_get(answer, "words");
        int ok = (text || words) && (!text || is_string_list(text)) &&
                 (!words || is_string_list(words)) &&
                 json_is_string(json_object_get(answer, "value"));
        if (!ok) {
            content_error_at(ld->errs, file, item,
                             "write {\"text\": [\"...\"], \"value\": "
                             "\"slot:NAME=VALUE\"} or {\"words\": "
                             "[\"...\"], \"value\": ...}",
                             "an answer needs a non-empty array of texts "
                             "or words and a string value");
            continue;
        }
        check_keys(ld, file, item, answer, keys);
    }
}

/* ---- one script file ---- */

static void load_node(loader_t *ld, const content_file_t *file, size_t index,
                      const char *id, json_t *node)
{
    static const char *const keys[] = {
        "say",    "quick_replies", "slot",       "capture",   "actions",
        "on",     "next",          "digression", "wait",      "note",
        "retry",  "answers",       "number_as",  "hint",      "pick_entry",
        "resume", "resume_say",    "again_say",  "confirmed", NULL};
    char base[160];
    snprintf(base, sizeof base, "/nodes/%s", id);
    if (!is_identifier(id))
        content_error_at(ld->errs, file, base,
                         "use lower-case letters, digits and _",
                         "invalid node id \"%s\"", id);
    if (!json_is_object(node)) {
        content_error_at(ld->errs, file, base, "write {\"say\": \"...\"}",
                         "node \"%s\" must be an object", id);
        return;
    }
    if (json_object_get(ld->script->nodes, id)) {
        content_error_at(ld->errs, file, base, "give the node another id",
                         "node \"%s\" is defined twice", id);
        return;
    }
    json_object_set(ld->script->nodes, id, node);
    char okey[400];
    snprintf(okey, sizeof okey, "nodes/%s", id);
    json_object_set_new(ld->origin, okey, json_integer((json_int_t)index));

    check_keys(ld, file, base, node, keys);
    char ptr[320];
    json_t *v;
    const char *prompts[] = {"say", "retry", "hint", "resume_say", "again_say"};
    for (size_t p = 0; p < sizeof prompts / sizeof *prompts; p++) {
        if (!(v = json_object_get(node, prompts[p])) || is_prompt(v))
            continue;
        snprintf(ptr, sizeof ptr, "%s/%s", base, prompts[p]);
        content_error_at(
            ld->errs, file, ptr, "write a string or an array of variants",
            "%s must be a non-empty string or array of strings", prompts[p]);
    }
    if ((v = json_object_get(node, "quick_replies"))) {
        snprintf(ptr, sizeof ptr, "%s/quick_replies", base);
        check_quick_replies(ld, file, ptr, v);
    }
    if ((v = json_object_get(node, "answers")))
        check_answers(ld, file, base, v);
    const char *strings[] = {"slot", "capture", "note", "pick_entry"};
    for (size_t i = 0; i < 4; i++)
        if ((v = json_object_get(node, strings[i])) && !json_is_string(v)) {
            snprintf(ptr, sizeof ptr, "%s/%s", base, strings[i]);
            content_error_at(ld->errs, file, ptr, "write a string",
                             "%s must be a string", strings[i]);
        }
    v = json_object_get(node, "capture");
    if (json_is_string(v) && strcmp(json_string_value(v), "name") != 0 &&
        strcmp(json_string_value(v), "contact") != 0) {
        snprintf(ptr, sizeof ptr, "%s/capture", base);
        content_error_at(ld->errs, file, ptr, "use \"name\" or \"contact\"",
                         "unknown capture \"%s\"", json_string_value(v));
    }
    const char *bools[] = {"digression", "wait", "resume"};
    for (size_t i = 0; i < 3; i++)
        if ((v = json_object_get(node, bools[i])) && !json_is_boolean(v)) {
            snprintf(ptr, sizeof ptr, "%s/%s", base, bools[i]);
            content_error_at(ld->errs, file, ptr, "write true or false",
                             "%s must be true or false", bools[i]);
        }
    if ((v = json_object_get(node, "actions"))) {
        snprintf(ptr, sizeof ptr, "%s/actions", base);
        if (!json_is_array(v))
            content_error_at(ld->errs, file, ptr,
                             "write [{\"do\": \"search_kb\"}]",
                             "actions must be an array");
        else {
            size_t i;
            json_t *a;
            json_array_foreach(v, i, a)
            {
                char aptr[360];
                snprintf(aptr, sizeof aptr, "%s/%zu", ptr, i);
                check_action(ld, file, aptr, a);
            }
        }
    }
    if ((v = json_object_get(node, "on"))) {
        snprintf(ptr, sizeof ptr, "%s/on", base);
        if (!json_is_array(v))
            content_error_at(ld->errs, file, ptr,
                             "write [{\"when\": {\"intent\": \"affirm\"}, "
                             "\"goto\": \"node\"}]",
                             "on must be an array");
        else
            check_goto_list(ld, file, ptr, v);
    }
    if ((v = json_object_get(node, "next"))) {
        snprintf(ptr, sizeof ptr, "%s/next", base);
        if (json_is_array(v))
            check_goto_list(ld, file, ptr, v);
        else if (!json_is_string(v))
            content_error_at(ld->errs, file, ptr,
                             "write a node id, \"return\", or a list of "
                             "{when, goto}",
                             "next must be a string or an array");
    }
}

static void load_slot(loader_t *ld, const content_file_t *file, size_t index,
                      const char *name, json_t *slot)
{
    static const char *const keys[] = {"entity",   "label", "summary", "values",
                                       "unlisted", "note",  NULL};
    char base[160];
    snprintf(base, sizeof base, "/slots/%s", name);
    if (!json_is_object(slot)) {
        content_error_at(ld->errs, file, base,
                         "write {\"entity\": \"region\", ...}",
                         "slot \"%s\" must be an object", name);
        return;
    }
    if (json_object_get(ld->script->slots, name)) {
        content_error_at(ld->errs, file, base, "define each slot once",
                         "slot \"%s\" is defined twice", name);
        return;
    }
    json_object_set(ld->script->slots, name, slot);
    char okey[400];
    snprintf(okey, sizeof okey, "slots/%s", name);
    json_object_set_new(ld->origin, okey, json_integer((json_int_t)index));
    check_keys(ld, file, base, slot, keys);

    char ptr[320];
    const char *entity = json_string_value(json_object_get(slot, "entity"));
    if (!entity || !IN_LIST(entity, entity_kinds)) {
        snprintf(ptr, sizeof ptr, "%s/entity", base);
        content_error_at(ld->errs, file, ptr,
                         "use region, level, time, size, sector or goal",
                         "slot \"%s\" needs a known entity kind", name);
    }
    const char *strings[] = {"label", "summary"};
    for (size_t i = 0; i < 2; i++)
        if (!is_prompt(json_object_get(slot, strings[i])) ||
            !json_is_string(json_object_get(slot, strings[i]))) {
            snprintf(ptr, sizeof ptr, "%s/%s", base, strings[i]);
            content_error_at(
                ld->errs, file, json_object_get(slot, strings[i]) ? ptr : base,
                "write a Dutch text", "slot \"%s\" needs a string \"%s\"", name,
                strings[i]);
        }
    json_t *unlisted = json_object_get(slot, "unlisted");
    if (unlisted && (!json_is_string(json_object_get(unlisted, "value")) ||
                     !json_is_string(json_object_get(unlisted, "say")))) {
        snprintf(ptr, sizeof ptr, "%s/unlisted", base);
        content_error_at(ld->errs, file, ptr,
                         "write {\"value\": \"overig\", \"say\": \"...\"}",
                         "slot \"%s\" has an invalid \"unlisted\"", name);
    }
    if (json_object_get(slot, "values")) {
        snprintf(ptr, sizeof ptr, "%s/values", base);
        content_error_at(ld->errs, file, ptr,
                         "remove \"values\"; the values of a slot and their "
                         "labels are those of its entity in lang/facets.json",
                         "slot \"%s\" lists values", name);
    }
}

static void merge_object(loader_t *ld, const content_file_t *file, size_t index,
                         const char *section, json_t *into, json_t *from)
{
    if (!json_is_object(from)) {
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/%s", section);
        content_error_at(ld->errs, file, ptr, "write an object",
                         "%s must be an object", section);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(from, key, v)
    {
        char ptr[200];
        snprintf(ptr, sizeof ptr, "/%s/%s", section, key);
        if (json_object_get(into, key)) {
            content_error_at(ld->errs, file, ptr, "define each key once",
                             "%s \"%s\" is defined twice", section, key);
            continue;
        }
        if (!is_prompt(v)) {
            content_error_at(ld->errs, file, ptr,
                             "write a Dutch text or an array of variants",
                             "%s \"%s\" must be a non-empty text", section,
                             key);
            continue;
        }
        json_object_set(into, key, v);
        char okey[400];
        snprintf(okey, sizeof okey, "%s/%s", section, key);
        json_object_set_new(ld->origin, okey, json_integer((json_int_t)index));
    }
}

static void load_script_file(loader_t *ld, size_t index)
{
    static const char *const keys[] = {
        "slots", "texts", "intent_labels", "routes", "nodes", "note", NULL};
    const content_file_t *file = &ld->files[index];
    dlg_script_t *s = ld->script;
    check_keys(ld, file, "", file->root, keys);

    const char *key;
    json_t *v;
    json_t *slots = json_object_get(file->root, "slots");
    if (json_is_object(slots))
        json_object_foreach(slots, key, v) load_slot(ld, file, index, key, v);
    else if (slots)
        content_error_at(ld->errs, file, "/slots", "write an object",
                         "slots must be an object");

    json_t *texts = json_object_get(file->root, "texts");
    if (texts)
        merge_object(ld, file, index, "texts", s->texts, texts);
    json_t *labels = json_object_get(file->root, "intent_labels");
    if (labels)
        merge_object(ld, file, index, "intent_labels", s->intent_labels,
                     labels);

    json_t *routes = json_object_get(file->root, "routes");
    if (json_is_array(routes)) {
        check_goto_list(ld, file, "/routes", routes);
        size_t i;
        json_t *route;
        json_array_foreach(routes, i, route)
        {
            /* Remember where each route came from for later errors. */
            json_t *copy = json_deep_copy(route);
            if (!copy)
                continue;
            json_object_set_new(copy, "_file", json_integer((json_int_t)index));
            json_object_set_new(copy, "_index", json_integer((json_int_t)i));
            json_array_append_new(s->routes, copy);
        }
    } else if (routes)
        content_error_at(ld->errs, file, "/routes",
                         "write [{\"when\": {...}, \"goto\": \"node\"}]",
                         "routes must be an array");

    json_t *nodes = json_object_get(file->root, "nodes");
    if (json_is_object(nodes))
        json_object_foreach(nodes, key, v) load_node(ld, file, index, key, v);
    else if (nodes)
        content_error_at(ld->errs, file, "/nodes",
                         "write {\"node_id\": {\"say\": \"...\"}}",
                         "nodes must be an object");
}

/* ---- references between files ---- */

static void check_intent(loader_t *ld, const content_file_t *file,
                         const char *pointer, const char *name)
{
    if (ld->nlu && !nlu_has_intent(ld->nlu, name))
        content_error_at(ld->errs, file, pointer,
                         "use an intent defined in intents/*.json",
                         "unknown intent \"%s\"", name);
}

static void check_node_ref(loader_t *ld, const content_file_t *file,
                           const char *pointer, const char *id)
{
    if (!strcmp(id, "return"))
        return;
    if (!json_object_get(ld->script->nodes, id))
        content_error_at(ld->errs, file, pointer,
                         "use the id of a node in dialogs/*.json",
                         "unknown node \"%s\"", id);
}

static void check_slot_ref(loader_t *ld, const content_file_t *file,
                           const char *pointer, const char *name)
{
    if (!json_object_get(ld->script->slots, name))
        content_error_at(ld->errs, file, pointer,
                         "use a slot defined under \"slots\"",
                         "unknown slot \"%s\"", name);
}

/* Checks that `value` is a value of slot `name`: an id of the slot's
 * facet in lang/facets.json. A time slot takes any number, and without a
 * knowledge base (unit tests) nothing is checked. An unknown slot is
 * reported elsewhere. */
static void check_slot_value(loader_t *ld, const content_file_t *file,
                             const char *pointer, const char *name,
                             const char *value)
{
    json_t *slot = json_object_get(ld->script->slots, name);
    const char *entity = json_string_value(json_object_get(slot, "entity"));
    if (!ld->kb || !entity || !strcmp(entity, "time"))
        return;
    const char *ids[64];
    size_t n = kb_facet_values(ld->kb, entity, ids, 64);
    char hint[1024];
    int used =
        snprintf(hint, sizeof hint, "use a %s id of lang/facets.json:", entity);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ids[i], value))
            return;
        if (used > 0 && (size_t)used < sizeof hint)
            used += snprintf(hint + used, sizeof hint - (size_t)used, "%s %s",
                             i ? "," : "", ids[i]);
    }
    content_error_at(ld->errs, file, pointer, hint,
                     "unknown value \"%s\" of slot %s", value, name);
}

static void check_condition_refs(loader_t *ld, const content_file_t *file,
                                 const char *pointer, const json_t *when)
{
    char ptr[360];
    json_t *v = json_object_get(when, "intent");
    snprintf(ptr, sizeof ptr, "%s/intent", pointer);
    if (json_is_string(v))
        check_intent(ld, file, ptr, json_string_value(v));
    size_t i;
    json_t *item;
    if (json_is_array(v))
        json_array_foreach(v, i, item)
        {
            char iptr[400];
            snprintf(iptr, sizeof iptr, "%s/%zu", ptr, i);
            check_intent(ld, file, iptr, json_string_value(item));
        }
    const char *slot_keys[] = {"slot_missing", "slot_set"};
    for (i = 0; i < 2; i++) {
        v = json_object_get(when, slot_keys[i]);
        snprintf(ptr, sizeof ptr, "%s/%s", pointer, slot_keys[i]);
        if (json_is_string(v))
            check_slot_ref(ld, file, ptr, json_string_value(v));
    }
    v = json_object_get(when, "slot_is");
    const char *key;
    json_t *value;
    if (json_is_object(v))
        json_object_foreach(v, key, value)
        {
            snprintf(ptr, sizeof ptr, "%s/slot_is/%s", pointer, key);
            check_slot_ref(ld, file, ptr, key);
            if (json_is_string(value))
                check_slot_value(ld, file, ptr, key, json_string_value(value));
        }
    v = json_object_get(when, "topic");
    if (json_is_string(v) &&
        strcmp(json_string_value(v), "tailored_advice") != 0 &&
        !json_object_get(
            json_object_get(ld->script->policy, "out_of_scope_topics"),
            json_string_value(v))) {
        snprintf(ptr, sizeof ptr, "%s/topic", pointer);
        content_error_at(ld->errs, file, ptr,
                         "use \"tailored_advice\" or a name of the policy's "
                         "out_of_scope_topics",
                         "unknown topic \"%s\"", json_string_value(v));
    }
}

static void check_goto_refs(loader_t *ld, const content_file_t *file,
                            const char *pointer, const json_t *list)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char ptr[360];
        const char *target = json_string_value(json_object_get(item, "goto"));
        if (target) {
            snprintf(ptr, sizeof ptr, "%s/%zu/goto", pointer, i);
            check_node_ref(ld, file, ptr, target);
        }
        json_t *when = json_object_get(item, "when");
        if (json_is_object(when)) {
            snprintf(ptr, sizeof ptr, "%s/%zu/when", pointer, i);
            check_condition_refs(ld, file, ptr, when);
        }
    }
}

/* Quick-reply values that start with "intent:", "slot:" or "ask:" are
 * commands; their names must exist. */
static void check_quick_reply_refs(loader_t *ld, const content_file_t *file,
                                   const char *pointer, const json_t *qr)
{
    size_t i;
    json_t *item;
    json_array_foreach(qr, i, item)
    {
        const char *value = json_string_value(json_object_get(item, "value"));
        if (!value)
            continue;
        char ptr[360];
        snprintf(ptr, sizeof ptr, "%s/%zu/value", pointer, i);
        if (!strncmp(value, "intent:", 7))
            check_intent(ld, file, ptr, value + 7);
        else if (!strncmp(value, "ask:", 4))
            check_slot_ref(ld, file, ptr, value + 4);
        else if (!strncmp(value, "route:", 6)) {
            int step;
            if (eng_parse_route_step(value + 6, &step) != 0)
                content_error_at(ld->errs, file, ptr,
                                 "write route:3 or route:next",
                                 "invalid route command \"%s\"", value);
        } else if (!strncmp(value, "checklist:", 10)) {
            int first, last;
            const json_t *list = NULL;
            size_t items = 0;
            if (ld->kb && kb_list_type(ld->kb, "checklist", &list, 1) > 0)
                items = json_array_size(json_object_get(list, "items"));
            if (eng_parse_checklist_part(value + 10, &first, &last) != 0)
                content_error_at(ld->errs, file, ptr,
                                 "write checklist:all or checklist:1-7",
                                 "invalid checklist command \"%s\"", value);
            else if (last != INT_MAX && items && (size_t)last > items)
                content_error_at(ld->errs, file, ptr,
                                 "use item positions from 1 to the number "
                                 "of items in kb/checklist.json",
                                 "checklist command \"%s\" goes past the "
                                 "%zu items of the checklist",
                                 value, items);
        } else if (!strncmp(value, "slot:", 5)) {
            char name[64];
            const char *eq = strchr(value + 5, '=');
            size_t n = eq ? (size_t)(eq - value - 5) : 0;
            if (!eq || n == 0 || n >= sizeof name) {
                content_error_at(ld->errs, file, ptr, "write slot:NAME=VALUE",
                                 "invalid slot command \"%s\"", value);
                continue;
            }
            memcpy(name, value + 5, n);
            name[n] = '\0';
            check_slot_ref(ld, file, ptr, name);
            check_slot_value(ld, file, ptr, name, eq + 1);
        }
    }
}

static int node_has_action(const json_t *node, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(
        json_object_get(node, "actions"), i,
        a) if (!strcmp(or_empty(json_string_value(json_object_get(a, "do"))),
                       name)) return 1;
    return 0;
}

static int node_waits(const json_t *node)
{
    return json_object_get(node, "slot") || json_object_get(node, "capture") ||
           json_object_get(node, "on") ||
           json_is_true(json_object_get(node, "wait"));
}

/* "number_as": [{"below": 50, "value": "klein"}, ..., {"value": "groot"}]
 * at a node with a slot: each "below" is greater than the one before, only
 * the last range may leave it out, and each value belongs to the slot. */
static void check_number_as(loader_t *ld, const content_file_t *file,
                            const char *base, const json_t *node)
{
    static const char *const keys[] = {"below", "value", NULL};
    const json_t *ranges = json_object_get(node, "number_as");
    const char *slot = json_string_value(json_object_get(node, "slot"));
    char ptr[360];
    snprintf(ptr, sizeof ptr, "%s/number_as", base);
    if (!json_is_array(ranges) || json_array_size(ranges) == 0) {
        content_error_at(ld->errs, file, ptr,
                         "write [{\"below\": 50, \"value\": \"klein\"}, "
                         "{\"value\": \"groot\"}]",
                         "number_as must be a non-empty array");
        return;
    }
    if (!slot) {
        content_error_at(ld->errs, file, ptr, "add \"slot\": \"name\"",
                         "number_as needs a node with a slot");
        return;
    }
    size_t i, last = json_array_size(ranges) - 1;
    json_t *range;
    double previous = 0;
    json_array_foreach(ranges, i, range)
    {
        char item[400];
        snprintf(item, sizeof item, "%s/%zu", ptr, i);
        const char *value = json_string_value(json_object_get(range, "value"));
        json_t *below = json_object_get(range, "below");
        if (!json_is_object(range) || !value) {
            content_error_at(ld->errs, file, item,
                             "write {\"below\": 50, \"value\": \"klein\"}",
                             "a range needs a string value");
            continue;
        }
        check_keys(ld, file, item, range, keys);
        check_slot_value(ld, file, item, slot, value);
        if (!below && i == last)
            continue;
        if (!json_is_number(below)) {
            content_error_at(ld->errs, file, item,
                             "write \"below\": 50, or leave it out only in "
                             "the last range",
                             "below must be a number");
            continue;
        }
        if (i > 0 && json_number_value(below) <= previous)
            content_error_at(ld->errs, file, item,
                             "list the ranges from low to high",
                             "below %g is not greater than %g",
                             json_number_value(below), previous);
        previous = json_number_value(below);
    }
}

/* Returns 1 when one of the node's "on" handlers takes `intent`. */
static int on_handles(const json_t *node, const char *intent)
{
    size_t i, j;
    json_t *handler, *name;
    json_array_foreach(json_object_get(node, "on"), i, handler)
    {
        json_t *want =
            json_object_get(json_object_get(handler, "when"), "intent");
        if (json_is_string(want) && !strcmp(json_string_value(want), intent))
            return 1;
        json_array_foreach(want, j, name)
        {
            if (!strcmp(or_empty(json_string_value(name)), intent))
                return 1;
        }
    }
    return 0;
}

/* Returns 1 when the label starts with the word `word` ("Ja, graag"). */
static int label_starts_with(const char *label, const char *word)
{
    size_t n = strlen(word);
    return !strncasecmp(label, word, n) && !isalpha((unsigned char)label[n]);
}

/* A yes/no question takes a typed yes and no, not only its buttons: a
 * quick reply "Ja ..." needs an "on" handler for affirm and one "Nee ..."
 * a handler for deny. */
static void check_yes_no(loader_t *ld, const content_file_t *file,
                         const char *base, const json_t *node)
{
    static const char *const words[] = {"ja", "nee"};
    static const char *const intents[] = {"affirm", "deny"};
    size_t i;
    json_t *qr;
    json_array_foreach(json_object_get(node, "quick_replies"), i, qr)
    {
        const char *label =
            or_empty(json_string_value(json_object_get(qr, "label")));
        for (size_t k = 0; k < 2; k++)
            if (label_starts_with(label, words[k]) &&
                !on_handles(node, intents[k])) {
                char ptr[400];
                snprintf(ptr, sizeof ptr, "%s/quick_replies/%zu", base, i);
                content_error_at(
                    ld->errs, file, ptr,
                    "give the reply the value intent:affirm or intent:deny "
                    "and add an \"on\" handler for that intent",
                    "\"%s\" is a yes/no reply, but a typed \"%s\" is "
                    "not handled",
                    label, words[k]);
            }
    }
}

static void check_node_refs(loader_t *ld, const char *id, const json_t *node)
{
    const content_file_t *file = origin_file(ld, "nodes", id);
    char base[160], ptr[360];
    snprintf(base, sizeof base, "/nodes/%s", id);
    json_t *v;

    if ((v = json_object_get(node, "slot")) && json_is_string(v)) {
        snprintf(ptr, sizeof ptr, "%s/slot", base);
        check_slot_ref(ld, file, ptr, json_string_value(v));
    }
    if ((v = json_object_get(node, "quick_replies")) && json_is_array(v)) {
        snprintf(ptr, sizeof ptr, "%s/quick_replies", base);
        check_quick_reply_refs(ld, file, ptr, v);
        check_yes_no(ld, file, base, node);
    }
    if ((v = json_object_get(node, "answers")) && json_is_array(v)) {
        snprintf(ptr, sizeof ptr, "%s/answers", base);
        check_quick_reply_refs(ld, file, ptr, v);
    }
    if ((v = json_object_get(node, "confirmed"))) {
        snprintf(ptr, sizeof ptr, "%s/confirmed", base);
        check_node_ref(ld, file, ptr, or_empty(json_string_value(v)));
    }
    if (json_object_get(node, "number_as"))
        check_number_as(ld, file, base, node);
    if ((v = json_object_get(node, "on")) && json_is_array(v)) {
        snprintf(ptr, sizeof ptr, "%s/on", base);
        check_goto_refs(ld, file, ptr, v);
    }
    v = json_object_get(node, "next");
    if (json_is_string(v)) {
        snprintf(ptr, sizeof ptr, "%s/next", base);
        check_node_ref(ld, file, ptr, json_string_value(v));
    } else if (json_is_array(v)) {
        snprintf(ptr, sizeof ptr, "%s/next", base);
        check_goto_refs(ld, file, ptr, v);
    }
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(node, "actions"), i, a)
    {
        json_t *ref;
        for (size_t k = 0;
             k < sizeof action_node_keys / sizeof *action_node_keys; k++) {
            ref = json_object_get(a, action_node_keys[k]);
            if (!json_is_string(ref))
                continue;
            snprintf(ptr, sizeof ptr, "%s/actions/%zu/%s", base, i,
                     action_node_keys[k]);
            check_node_ref(ld, file, ptr, json_string_value(ref));
        }
        if ((ref = json_object_get(a, "slot")) && json_is_string(ref)) {
            snprintf(ptr, sizeof ptr, "%s/actions/%zu/slot", base, i);
            check_slot_ref(ld, file, ptr, json_string_value(ref));
            json_t *value = json_object_get(a, "value");
            snprintf(ptr, sizeof ptr, "%s/actions/%zu/value", base, i);
            if (json_is_string(value))
                check_slot_value(ld, file, ptr, json_string_value(ref),
                                 json_string_value(value));
        }
        if ((ref = json_object_get(a, "entry")) && json_is_string(ref) &&
            ld->kb && !kb_entry(ld->kb, json_string_value(ref))) {
            snprintf(ptr, sizeof ptr, "%s/actions/%zu/entry", base, i);
            content_error_at(ld->errs, file, ptr,
                             "use the id of an entry in kb/*.json",
                             "unknown kb entry \"%s\"", json_string_value(ref));
        }
    }

    /* Shape: a prompt where the visitor is asked something, and a way
     * out of every node. */
    int waits = node_waits(node);
    int has_next = json_object_get(node, "next") != NULL;
    if (waits && !json_object_get(node, "say"))
        content_error_at(ld->errs, file, base,
                         "add \"say\": \"...\" with the question",
                         "node \"%s\" waits for the visitor but has no "
                         "prompt",
                         id);
    if ((json_object_get(node, "slot") || json_object_get(node, "capture")) &&
        !has_next)
        content_error_at(ld->errs, file, base,
                         "add \"next\": \"node\" for after the answer",
                         "node \"%s\" has no way out: it asks but has no "
                         "next",
                         id);
    if (!waits && !has_next && !node_has_action(node, "end") &&
        !node_has_action(node, "goto") &&
        !node_has_action(node, "wait_advisor"))
        content_error_at(ld->errs, file, base,
                         "add \"next\", \"wait\": true with quick replies, "
                         "or an end action",
                         "node \"%s\" has no way out", id);
    if (json_is_true(json_object_get(node, "wait")) &&
        !json_object_get(node, "quick_replies") &&
        !json_object_get(node, "on") && !has_next)
        content_error_at(ld->errs, file, base,
                         "add quick_replies or \"on\" handlers",
                         "node \"%s\" waits but offers no way out", id);
}

/* Marks every node reachable from the start, the policy's nodes and the
 * routes, following next, on and goto actions. */
static void mark_reachable(loader_t *ld, json_t *seen, const char *id)
{
    json_t *node = json_object_get(ld->script->nodes, id);
    if (!node || json_object_get(seen, id))
        return;
    json_object_set_new(seen, id, json_true());
    json_t *next = json_object_get(node, "next");
    if (json_is_string(next))
        mark_reachable(ld, seen, json_string_value(next));
    const json_t *lists[] = {json_is_array(next) ? next : NULL,
                             json_object_get(node, "on")};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)lists[l], i, item) mark_reachable(
            ld, seen, json_string_value(json_object_get(item, "goto")));
    }
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(node, "actions"), i, a)
    {
        for (size_t k = 0;
             k < sizeof action_node_keys / sizeof *action_node_keys; k++) {
            const char *target =
                json_string_value(json_object_get(a, action_node_keys[k]));
            if (target)
                mark_reachable(ld, seen, target);
        }
    }
}

/* Returns 1 when `name` is in the NULL-terminated `list`. */
static int in_null_list(const char *name, size_t length,
                        const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == length && !strncmp(list[i], name, length))
            return 1;
    return 0;
}

/* Returns 1 when `text` uses "{name}". */
static int uses_placeholder(const char *text, const char *name)
{
    char wanted[64];
    snprintf(wanted, sizeof wanted, "{%s}", name);
    return strstr(text, wanted) != NULL;
}

/* Reports each "{name}" (lower-case letters and "_") in the strings of
 * `prompt` that is not in `allowed`, and with `required` each name of
 * `allowed` that a string lacks. Other braces are text. */
static void check_placeholders(loader_t *ld, const content_file_t *file,
                               const char *pointer, const json_t *prompt,
                               const char *const *allowed, int required)
{
    char hint[256] = "this text takes no placeholders";
    if (allowed[0]) {
        int used = snprintf(hint, sizeof hint, "use");
        for (size_t i = 0; allowed[i] && used > 0 && (size_t)used < sizeof hint;
             i++)
            used += snprintf(hint + used, sizeof hint - (size_t)used, "%s {%s}",
                             i ? "," : "", allowed[i]);
    }
    size_t count = json_is_array(prompt) ? json_array_size(prompt) : 1;
    for (size_t n = 0; n < count; n++) {
        const json_t *item =
            json_is_array(prompt) ? json_array_get(prompt, n) : prompt;
        const char *text = json_string_value(item);
        if (!text)
            continue;
        char ptr[400];
        if (json_is_array(prompt))
            snprintf(ptr, sizeof ptr, "%s/%zu", pointer, n);
        else
            snprintf(ptr, sizeof ptr, "%s", pointer);
        for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
            size_t length = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
            if (length == 0 || p[1 + length] != '}' ||
                in_null_list(p + 1, length, allowed))
                continue;
            content_error_at(ld->errs, file, ptr, hint,
                             "unknown placeholder {%.*s}", (int)length, p + 1);
        }
        for (size_t i = 0; required && allowed[i]; i++)
            if (!uses_placeholder(text, allowed[i]))
                content_error_at(ld->errs, file, ptr, hint,
                                 "the text lacks the placeholder {%s}",
                                 allowed[i]);
    }
}

/* Checks the placeholders of every text, node prompt and slot summary,
 * and that office_weekdays names the seven days. */
static void check_texts(loader_t *ld)
{
    const dlg_script_t *s = ld->script;
    const char *key;
    json_t *v;
    json_object_foreach(s->texts, key, v)
    {
        const char *const *allowed = general_placeholders;
        int required = 0;
        for (size_t i = 0;
             i < sizeof own_placeholders / sizeof *own_placeholders; i++)
            if (!strcmp(own_placeholders[i].text, key)) {
                allowed = own_placeholders[i].placeholders;
                required = own_placeholders[i].required;
            }
        char ptr[200];
        snprintf(ptr, sizeof ptr, "/texts/%s", key);
        check_placeholders(ld, origin_file(ld, "texts", key), ptr, v, allowed,
                           required);
    }
    json_t *days = json_object_get(s->texts, "office_weekdays");
    if (days && (!json_is_array(days) || json_array_size(days) != 7))
        ITEM_ERROR(ld, "texts", "office_weekdays", "",
                   "write [\"maandag\", \"dinsdag\", ..., \"zondag\"]",
                   "office_weekdays must list the 7 days, Monday first");

    json_object_foreach(s->nodes, key, v)
    {
        const content_file_t *file = origin_file(ld, "nodes", key);
        const char *prompts[] = {"say", "retry", "again_say"};
        char ptr[360];
        for (size_t i = 0; i < 3; i++) {
            json_t *prompt = json_object_get(v, prompts[i]);
            snprintf(ptr, sizeof ptr, "/nodes/%s/%s", key, prompts[i]);
            if (prompt)
                check_placeholders(ld, file, ptr, prompt, general_placeholders,
                                   0);
        }
        size_t i;
        json_t *action;
        json_array_foreach(json_object_get(v, "actions"), i, action)
        {
            json_t *say = json_object_get(action, "say");
            snprintf(ptr, sizeof ptr, "/nodes/%s/actions/%zu/say", key, i);
            if (say)
                check_placeholders(ld, file, ptr, say, general_placeholders, 0);
        }
    }
    json_object_foreach(s->slots, key, v)
    {
        json_t *summary = json_object_get(v, "summary");
        char ptr[200];
        snprintf(ptr, sizeof ptr, "/slots/%s/summary", key);
        if (summary)
            check_placeholders(ld, origin_file(ld, "slots", key), ptr, summary,
                               summary_placeholders, 0);
    }
}

static void check_references(loader_t *ld, const content_file_t *policy)
{
    dlg_script_t *s = ld->script;
    const char *key;
    json_t *v;

    /* Policy nodes. */
    const char *policy_keys[] = {"start_node",      "orientation_node",
                                 "unsure_node",     "callback_node",
                                 "no_consent_node", "unknown_name_node"};
    const char *policy_nodes[] = {s->start_node,      s->orientation_node,
                                  s->unsure_node,     s->callback_node,
                                  s->no_consent_node, s->unknown_name_node};
    for (size_t i = 0; i < 6; i++) {
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/%s", policy_keys[i]);
        if (policy && policy_nodes[i])
            check_node_ref(ld, policy, ptr, policy_nodes[i]);
    }

    /* Texts the engine needs. */
    for (size_t i = 0; i < sizeof required_texts / sizeof *required_texts; i++)
        if (!json_object_get(s->texts, required_texts[i]))
            content_errors_add(ld->errs, "dialogs", 0, 0,
                               "add it under \"texts\" in one dialog file",
                               "missing text \"%s\"", required_texts[i]);

    json_object_foreach(s->intent_labels, key, v)
        check_intent(ld, origin_file(ld, "intent_labels", key), "", key);
    if (ld->nlu)
        for (size_t i = 0; i < nlu_intent_count(ld->nlu); i++) {
            const char *name = nlu_intent_name(ld->nlu, i);
            if (!json_object_get(s->intent_labels, name))
                content_errors_add(ld->errs, "dialogs", 0, 0,
                                   "add a Dutch label under "
                                   "\"intent_labels\"",
                                   "intent \"%s\" has no label for "
                                   "clarifying questions",
                                   name);
        }

    size_t i;
    json_t *route;
    json_array_foreach(s->routes, i, route)
    {
        const content_file_t *file =
            &ld->files[json_integer_value(json_object_get(route, "_file"))];
        char ptr[64];
        snprintf(
            ptr, sizeof ptr, "/routes/%lld",
            (long long)json_integer_value(json_object_get(route, "_index")));
        const char *target = json_string_value(json_object_get(route, "goto"));
        char gptr[80];
        snprintf(gptr, sizeof gptr, "%s/goto", ptr);
        if (target)
            check_node_ref(ld, file, gptr, target);
        json_t *when = json_object_get(route, "when");
        if (json_is_object(when)) {
            snprintf(gptr, sizeof gptr, "%s/when", ptr);
            check_condition_refs(ld, file, gptr, when);
        }
    }

    json_object_foreach(s->nodes, key, v) check_node_refs(ld, key, v);
    check_texts(ld);

    json_t *seen = json_object();
    for (size_t p = 0; p < 6; p++)
        if (policy_nodes[p])
            mark_reachable(ld, seen, policy_nodes[p]);
    json_array_foreach(s->routes, i, route) mark_reachable(
        ld, seen, json_string_value(json_object_get(route, "goto")));
    json_object_foreach(s->nodes, key, v)
    {
        if (json_object_get(seen, key))
            continue;
        ITEM_ERROR(ld, "nodes", key, "",
                   "add a route, a next or an on handler that leads to it, "
                   "or remove it",
                   "node \"%s\" is unreachable", key);
    }
    json_decref(seen);
}

void dlg_free(dlg_script_t *script)
{
    if (!script)
        return;
    json_decref(script->nodes);
    json_decref(script->slots);
    json_decref(script->texts);
    json_decref(script->intent_labels);
    json_decref(script->routes);
    json_decref(script->policy);
    free(script);
}

dlg_script_t *dlg_load(const char *dialogs_dir, const nlu_model_t *nlu,
                       const kb_t *kb, content_errors_t *errs)
{
    size_t before = errs->count;
    char **paths = NULL;
    size_t count = 0;
    if (content_list_json(dialogs_dir, &paths, &count, errs) != 0)
        return NULL;

    loader_t ld = {.errs = errs, .nlu = nlu, .kb = kb};
    ld.script = calloc(1, sizeof *ld.script);
    ld.files = calloc(count ? count : 1, sizeof *ld.files);
    ld.origin = json_object();
    if (!ld.script || !ld.files || !ld.origin) {
        content_errors_add(errs, dialogs_dir, 0, 0, "", "out of memory");
        goto fail;
    }
    dlg_script_t *s = ld.script;
    s->nodes = json_object();
    s->slots = json_object();
    s->texts = json_object();
    s->intent_labels = json_object();
    s->routes = json_array();
    s->policy = json_object();

    /* Load every file before checking references between them. */
    const content_file_t *policy = NULL;
    for (size_t i = 0; i < count; i++) {
        if (content_file_load(paths[i], &ld.files[ld.file_count], errs) != 0)
            continue;
        content_file_t *file = &ld.files[ld.file_count];
        size_t index = ld.file_count++;
        if (!json_is_object(file->root)) {
            content_error_at(errs, file, "",
                             "write {\"nodes\": {...}} or the policy object",
                             "a dialog file must contain one JSON object");
            continue;
        }
        const char *base = strrchr(file->path, '/');
        base = base ? base + 1 : file->path;
        if (!strcmp(base, "policy.json")) {
            policy = file;
            load_policy(&ld, file);
        } else
            load_script_file(&ld, index);
    }
    if (!policy)
        content_errors_add(errs, dialogs_dir, 0, 0,
                           "add dialogs/policy.json with the thresholds",
                           "policy.json is missing");
    check_references(&ld, policy);

    if (errs->count > before)
        goto fail;
    for (size_t i = 0; i < ld.file_count; i++)
        content_file_free(&ld.files[i]);
    free(ld.files);
    json_decref(ld.origin);
    content_list_free(paths, count);
    return ld.script;

fail:
    dlg_free(ld.script);
    for (size_t i = 0; i < ld.file_count; i++)
        content_file_free(&ld.files[i]);
    free(ld.files);
    json_decref(ld.origin);
    content_list_free(paths, count);
    return NULL;
}
