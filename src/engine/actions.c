/* Script actions, conditions and Dutch templates. Actions read the
 * knowledge base (searches are reads; the connection is only mutable for
 * SQLite's sake) and write messages and effects into the turn. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "nlu/text.h"

#define ENG_TEXT_MAX 4096

/* ---- templates ---- */

const char *eng_pick_variant(eng_turn_t *t, const json_t *prompt)
{
    if (json_is_string(prompt))
        return json_string_value(prompt);
    size_t n = json_array_size(prompt);
    if (n == 0)
        return NULL;
    /* The counter lives in the state, so a replay picks the same text. */
    long long counter =
        json_integer_value(json_object_get(t->state, "variant"));
    json_object_set_new(t->state, "variant", json_integer(counter + 1));
    return json_string_value(json_array_get(prompt, (size_t)counter % n));
}

void eng_fill(char *out, size_t size, const char *template_text,
              const char *const *keys, const char *const *values, size_t count)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = template_text; *p && used + 1 < size;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        size_t i = count;
        if (close)
            for (i = 0; i < count; i++)
                if (strlen(keys[i]) == (size_t)(close - p - 1) &&
                    !strncmp(p + 1, keys[i], (size_t)(close - p - 1)))
                    break;
        if (close && i < count) {
            used += (size_t)snprintf(out + used, size - used, "%s",
                                     values[i] ? values[i] : "");
            if (used >= size)
                used = size - 1;
            p = close + 1;
        } else {
            out[used++] = *p++;
            out[used] = '\0';
        }
    }
}

const char *eng_slot_label(eng_turn_t *t, const char *slot, char *buffer,
                           size_t size)
{
    json_t *entry = json_object_get(json_object_get(t->state, "slots"), slot);
    const char *value = json_string_value(json_object_get(entry, "value"));
    if (!value)
        return NULL;
    json_t *def = json_object_get(t->script->slots, slot);
    const char *entity = json_string_value(json_object_get(def, "entity"));
    if (entity && !strcmp(entity, "time"))
        return eng_time_label(t, atof(value), 0, buffer, size);
    /* The other slots contain facet values, labelled in lang/facets.json. */
    const char *label = kb_facet_label(t->content->kb, entity, value);
    return label ? label : value;
}

/* Writes hours the Dutch way, with a decimal comma: "4", "1,5". */
static void format_hours(double hours, char *out, size_t size)
{
    long halves = (long)(hours * 2.0 + 0.5);
    if (halves % 2)
        snprintf(out, size, "%ld,5", halves / 2);
    else
        snprintf(out, size, "%ld", halves / 2);
}

const char *eng_time_label(eng_turn_t *t, double per_month, int estimate,
                           char *buffer, size_t size)
{
    /* Under an hour a month reads better per year, in whole hours; up to
     * 10 hours a month in halves, above that in whole hours. A rounded
     * amount uses the time_value_about text. */
    char number[32];
    const char *key;
    if (per_month < 1.0) {
        double per_year = per_month * 12.0;
        format_hours(per_year < 1.0 ? 1.0 : (double)(long)(per_year + 0.5),
                     number, sizeof number);
        key = "time_value_year";
    } else {
        double rounded = per_month < 10.0
                             ? (double)(long)(per_month * 2.0 + 0.5) / 2.0
                             : (double)(long)(per_month + 0.5);
        format_hours(rounded, number, sizeof number);
        int exact = rounded - per_month < 0.01 && per_month - rounded < 0.01;
        key = estimate || !exact ? "time_value_about" : "time_value";
    }
    const char *tpl = json_string_value(json_object_get(t->script->texts, key));
    const char *keys[] = {"number"};
    const char *values[] = {number};
    eng_fill(buffer, size, tpl ? tpl : "{number}", keys, values, 1);
    return buffer;
}

static void build_summary(eng_turn_t *t, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    const char *name;
    json_t *def;
    json_object_foreach(t->script->slots, name, def)
    {
        json_t *entry =
            json_object_get(json_object_get(t->state, "slots"), name);
        if (!entry)
            continue;
        char line[512];
        char buffer[256];
        const char *label = eng_slot_label(t, name, buffer, sizeof buffer);
        const char *keys[] = {"label", "slot"};
        const char *values[] = {
            label, json_string_value(json_object_get(def, "label"))};
        if (!label) {
            /* An unknown slot shows summary_unknown as its value, in the
             * slot's own summary line ("Doel: nog niet bepaald"). */
            eng_fill(buffer, sizeof buffer,
                     or_empty(json_string_value(
                         json_object_get(t->script->texts, "summary_unknown"))),
                     keys, values, 2);
            values[0] = buffer;
        }
        const char *tpl = json_string_value(json_object_get(def, "summary"));
        eng_fill(line, sizeof line, tpl ? tpl : "", keys, values, 2);
        used += (size_t)snprintf(out + used, size - used, "%s- %s",
                                 used ? "\n" : "", line);
        if (used >= size)
            return;
    }
}

static const char *entry_title(eng_turn_t *t, const char *key)
{
    const char *id = eng_state_str(t->state, key);
    if (!id || !t->content->kb)
        return NULL;
    return json_string_value(
        json_object_get(kb_entry(t->content->kb, id), "title"));
}

char *eng_expand(eng_turn_t *t, const char *template_text)
{
    char *out = malloc(ENG_TEXT_MAX);
    if (!out)
        return NULL;
    char summary[2048];
    build_summary(t, summary, sizeof summary);

    /* Labels of the slot changed last, for "slot_changed". */
    const char *changed = eng_state_str(t->state, "_changed");
    char changed_buffer[256];
    const char *changed_value =
        changed
            ? eng_slot_label(t, changed, changed_buffer, sizeof changed_buffer)
            : NULL;
    const char *changed_label =
        changed ? json_string_value(json_object_get(
                      json_object_get(t->script->slots, changed), "label"))
                : NULL;

    char office_hours[1024];
    const char *keys[] = {"summary", "entry",         "partner",
                          "advisor", "changed_label", "changed_value",
                          "noted",   "office_hours"};
    const char *values[] = {
        summary,
        entry_title(t, "entry"),
        entry_title(t, "partner"),
        eng_state_str(t->state, "advisor"),
        changed_label,
        changed_value,
        eng_state_str(t->state, "_noted"),
        strstr(template_text ? template_text : "", "{office_hours}")
            ? eng_office_hours(t, office_hours, sizeof office_hours)
            : NULL};
    eng_fill(out, ENG_TEXT_MAX, template_text ? template_text : "", keys,
             values, sizeof keys / sizeof *keys);
    return out;
}

/* ---- slots for effects ---- */

json_t *eng_slots_summary(const json_t *state)
{
    json_t *out = json_object();
    const char *name;
    json_t *entry;
    json_object_foreach(json_object_get(state, "slots"), name, entry)
    {
        json_t *value = json_object_get(entry, "value");
        json_object_set_new(out, name,
                            value ? json_copy(value) : json_string("unknown"));
    }
    return out;
}

/* ---- knowledge base ---- */

static const char *slot_value(eng_turn_t *t, const char *kind)
{
    const char *name;
    json_t *def;
    json_object_foreach(t->script->slots, name, def)
    {
        const char *entity = json_string_value(json_object_get(def, "entity"));
        if (entity && !strcmp(entity, kind))
            return json_string_value(json_object_get(
                json_object_get(json_object_get(t->state, "slots"), name),
                "value"));
    }
    return NULL;
}

static double slot_number(eng_turn_t *t, const char *kind)
{
    const char *value = slot_value(t, kind);
    return value ? atof(value) : 0;
}

static json_t *hit_card(const kb_hit_t *hit)
{
    json_t *why = json_array();
    for (size_t i = 0; i < hit->reason_count; i++)
        json_array_append_new(why, json_string(hit->reasons[i]));
    return json_pack("{s:s, s:o, s:s, s:o}", "title", hit->title, "url",
                     hit->url[0] ? json_string(hit->url) : json_null(),
                     "summary", hit->summary, "why", why);
}

/* Returns 1 when the array of strings `list` contains `id`. */
static int id_listed(const json_t *list, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        if (!strcmp(or_empty(json_string_value(item)), id))
            return 1;
    }
    return 0;
}

/* Returns 1 when no entry fits the level in the filter's region, but one
 * does without the region: the region, not the level, is why none fits
 * (a company in Brussels). `hits` (room for `max`) is overwritten. */
static int level_fits_elsewhere(eng_turn_t *t, const kb_filter_t *filter,
                                kb_hit_t *hits, size_t max)
{
    if (!filter->region || !filter->level || !t->content->kb)
        return 0;
    kb_filter_t anywhere = *filter;
    anywhere.region = NULL;
    size_t count = 0;
    if (kb_recommend(t->content->kb, "", &anywhere, hits, max, &count) != 0)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (!hits[i].other_level)
            return 1;
    return 0;
}

/* Recommends initiatives for the slots: entries that match every known
 * facet first, then those that match the most, and within the time budget
 * before those that need more time (see kb_recommend). With "order":
 * "least_time" the initiatives for the visitor's level come least time
 * first. */
static void search_initiatives(eng_turn_t *t, const json_t *action)
{
    const char *order = json_string_value(json_object_get(action, "order"));
    kb_filter_t filter = {.type = "initiative",
                          .level = slot_value(t, "level"),
                          .region = slot_value(t, "region"),
                          .sector = slot_value(t, "sector"),
                          .size = slot_value(t, "size"),
                          .goal = slot_value(t, "goal"),
                          .max_hours_per_month = slot_number(t, "time"),
                          .least_time = order && !strcmp(order, "least_time")};
    size_t max = (size_t)t->script->cards_max;
    kb_hit_t *hits = calloc(max, sizeof *hits);
    size_t count = 0;
    if (!hits || !t->content->kb ||
        kb_recommend(t->content->kb, "", &filter, hits, max, &count) != 0)
        count = 0;
    /* An entry with thin facts that fails a facet ranks after the others
     * for the level; it is shown only to reach cards_min. */
    for (size_t i = count; i-- > 0 && count > (size_t)t->script->cards_min;) {
        if (!hits[i].thin_fit)
            continue;
        memmove(&hits[i], &hits[i + 1], (count - i - 1) * sizeof *hits);
        count--;
    }

    json_t *shown = json_object_get(t->state, "shown");
    if (count == 0) {
        eng_say_key(t, "no_results");
        json_array_append_new(t->effects,
                              json_pack("{s:s, s:s}", "type", "unanswered",
                                        "text", "no initiatives matched"));
    } else {
        json_t *cards = json_array();
        json_array_clear(shown);
        /* A new list: "daarvoor" no longer points to an earlier one. */
        json_object_del(t->state, "entry");
        json_object_del(t->state, "initiative");
        size_t other_level = 0;
        json_t *carded = json_object_get(t->state, "carded");
        if (!json_is_array(carded)) {
            carded = json_array();
            json_object_set_new(t->state, "carded", carded);
        }
        for (size_t i = 0; i < count; i++) {
            json_array_append_new(cards, hit_card(&hits[i]));
            json_array_append_new(shown, json_string(hits[i].id));
            other_level += hits[i].other_level != 0;
            if (!id_listed(carded, hits[i].id))
                json_array_append_new(carded, json_string(hits[i].id));
        }
        /* Cards for another level say so in their first reason. The
         * optional texts results_no_level (none fits the level) and
         * results_other_level (some do not) say it in the intro too. */
        json_t *say = json_object_get(action, "say");
        if (!say && other_level == count &&
            level_fits_elsewhere(t, &filter, hits, max))
            say = json_object_get(t->script->texts, "results_no_level_region");
        if (!say && other_level == count)
            say = json_object_get(t->script->texts, "results_no_level");
        if (!say && other_level)
            say = json_object_get(t->script->texts, "results_other_level");
        if (!say)
            say = json_object_get(t->script->texts, "results_intro");
        char *text = eng_expand(t, eng_pick_variant(t, say));
        eng_say(t, "bot", text ? text : "", NULL, cards);
        free(text);
    }
    free(hits);
}

/* Appends `text` to `out` as a new line. */
static void append_line(char *out, size_t size, const char *text)
{
    size_t used = strlen(out);
    snprintf(out + used, size - used, "%s%s", used ? "\n" : "", text);
}

int eng_parse_checklist_part(const char *argument, int *first, int *last)
{
    if (!strcmp(argument, "all")) {
        *first = 1;
        *last = INT_MAX;
        return 0;
    }
    char *end;
    long from = strtol(argument, &end, 10);
    if (end == argument || *end != '-' || from < 1 || from > INT_MAX)
        return -1;
    const char *rest = end + 1;
    long to = strtol(rest, &end, 10);
    if (end == rest || *end != '\0' || to < from || to > INT_MAX)
        return -1;
    *first = (int)from;
    *last = (int)to;
    return 0;
}

/* Shows the items of the checklist that a "checklist:" command requested,
 * filtered by the goal. Without such a command it returns the action's
 * "overview" node, which gives the main points and offers the parts. With
 * neither, it shows every item. Returns the node to jump to or NULL. */
static const char *show_checklist(eng_turn_t *t, const json_t *action)
{
    const char *overview =
        json_string_value(json_object_get(action, "overview"));
    if (!t->checklist_first && overview)
        return overview;
    const json_t *entry = NULL;
    if (!t->content->kb ||
        kb_list_type(t->content->kb, "checklist", &entry, 1) == 0) {
        eng_say_key(t, "no_entry");
        return NULL;
    }
    int first = t->checklist_first ? t->checklist_first : 1;
    int last = t->checklist_first ? t->checklist_last : INT_MAX;
    const char *goal = slot_value(t, "goal");
    char text[ENG_TEXT_MAX] = "";
    json_t *say = json_object_get(action, "say");
    char *intro = eng_expand(
        t, eng_pick_variant(
               t, say ? say
                      : json_object_get(t->script->texts, "checklist_intro")));
    append_line(text, sizeof text, intro ? intro : "");
    free(intro);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(entry, "items"), i, item)
    {
        if ((long long)i + 1 < first || (long long)i + 1 > last)
            continue;
        /* Items for other goals than the visitor's are left out. */
        json_t *goals = json_object_get(item, "goals");
        int fits = !goals || !goal;
        size_t j;
        json_t *g;
        json_array_foreach(goals, j, g)
        {
            if (goal && !strcmp(or_empty(json_string_value(g)), goal))
                fits = 1;
        }
        if (!fits)
            continue;
        char line[600];
        snprintf(line, sizeof line, "- %s",
                 or_empty(json_string_value(json_object_get(item, "text"))));
        append_line(text, sizeof text, line);
    }
    eng_say(t, "bot", text, NULL, NULL);
    return NULL;
}

static void join_strings(const json_t *array, char *out, size_t size)
{
    out[0] = '\0';
    size_t i;
    json_t *s;
    json_array_foreach(array, i, s)
    {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? " " : "",
                 json_string_value(s));
    }
}

int eng_parse_route_step(const char *argument, int *step)
{
    if (!strcmp(argument, "next")) {
        *step = ENG_ROUTE_NEXT;
        return 0;
    }
    char *end;
    long n = strtol(argument, &end, 10);
    if (end == argument || *end != '\0' || n < 1 || n > INT_MAX)
        return -1;
    *step = (int)n;
    return 0;
}

/* Sends one route step with its do's and don'ts (the route_step text). */
static void say_route_step(eng_turn_t *t, const json_t *step)
{
    const char *tpl =
        json_string_value(json_object_get(t->script->texts, "route_step"));
    char order[16], dos[1024], donts[1024], line[2400];
    snprintf(order, sizeof order, "%lld",
             (long long)json_integer_value(json_object_get(step, "order")));
    join_strings(json_object_get(step, "dos"), dos, sizeof dos);
    join_strings(json_object_get(step, "donts"), donts, sizeof donts);
    const char *keys[] = {"order", "title", "dos", "donts"};
    const char *values[] = {
        order, json_string_value(json_object_get(step, "title")), dos, donts};
    eng_fill(line, sizeof line, tpl ? tpl : "{order}. {title}", keys, values,
             4);
    eng_say(t, "bot", line, NULL, NULL);
}

/* Shows the route. Without a "route:" command it sends one message: the
 * intro and the title of each step on its own line, because the whole
 * route (about 2,500 characters) does not fit a chat bubble. With one, it
 * sends that step and stores its order in the state's "route_step".
 * "next" is the step after the one last shown, or the overview after the
 * last step. Returns the node to jump to: the action's "last_node" after
 * the last step, else its "step_node", or NULL. */
static const char *show_route(eng_turn_t *t, const json_t *action)
{
    enum { MAX_STEPS = 16 };
    const json_t *steps[MAX_STEPS];
    size_t count = t->content->kb ? kb_list_type(t->content->kb, "route-step",
                                                 steps, MAX_STEPS)
                                  : 0;
    if (count > MAX_STEPS)
        count = MAX_STEPS;
    if (count == 0) {
        eng_say_key(t, "no_entry");
        return NULL;
    }

    long long requested = t->route_step;
    if (requested == ENG_ROUTE_NEXT)
        requested =
            json_integer_value(json_object_get(t->state, "route_step")) + 1;
    const json_t *step = NULL;
    for (size_t i = 0; requested > 0 && i < count; i++)
        if (json_integer_value(json_object_get(steps[i], "order")) == requested)
            step = steps[i];
    if (step) {
        say_route_step(t, step);
        json_object_set_new(t->state, "route_step", json_integer(requested));
        const char *after =
            step == steps[count - 1] ? "last_node" : "step_node";
        const char *jump = json_string_value(json_object_get(action, after));
        return jump ? jump
                    : json_string_value(json_object_get(action, "step_node"));
    }
    json_object_set_new(t->state, "route_step", json_integer(0));

    json_t *say = json_object_get(action, "say");
    char *intro = eng_expand(
        t,
        eng_pick_variant(
            t, say ? say : json_object_get(t->script->texts, "route_intro")));
    char text[ENG_TEXT_MAX] = "";
    append_line(text, sizeof text, intro ? intro : "");
    free(intro);
    for (size_t i = 0; i < count; i++)
        append_line(
            text, sizeof text,
            or_empty(json_string_value(json_object_get(steps[i], "title"))));
    eng_say(t, "bot", text, NULL, NULL);
    return NULL;
}

/* The parts of an effort answer: the field, the label before its text,
 * and the sentence for a field that says "Niet bekend." */
static const struct {
    const char *field;
    const char *label;
    const char *unknown;
} effort_parts[] = {
    {"basis", NULL, "Hoeveel tijd het vraagt, weten we niet."},
    {"people", "Wie", "Wie eraan meewerkt, weten we niet."},
    {"place", "Waar", "Waar het plaatsvindt, weten we niet."},
    {"money", "Kosten", "Wat het kost, weten we niet."},
};

/* Returns 1 when a byte starts an upper-case letter: A-Z or a Latin-1
 * capital such as "É" (0xC3 0x80-0x9E). */
static int upper_at(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    return (u[0] >= 'A' && u[0] <= 'Z') ||
           (u[0] == 0xC3 && u[1] >= 0x80 && u[1] <= 0x9E && u[1] != 0x97);
}

/* Appends " Label: text" to `out`, with the first letter of `text` in
 * lower case ("Wie: één of twee medewerkers"), unless the text starts with
 * a name: a word with a second capital, or one followed by a capitalised
 * word ("Flanders Expo in Gent."). */
static void append_labelled(char *out, size_t size, const char *label,
                            const char *text)
{
    size_t used = strlen(out);
    size_t word = strcspn(text, " ");
    int name = 0;
    for (size_t i = 1; i < word; i++)
        if (upper_at(text + i))
            name = 1;
    if (text[word] == ' ' && upper_at(text + word + 1))
        name = 1;
    const unsigned char *u = (const unsigned char *)text;
    char first[3] = {text[0], 0, 0};
    size_t skip = 1;
    if (!name && u[0] >= 'A' && u[0] <= 'Z') {
        first[0] = (char)(u[0] + 32);
    } else if (u[0] == 0xC3 && u[1]) {
        first[1] = (char)(!name && upper_at(text) ? u[1] + 0x20 : u[1]);
        skip = 2;
    }
    /* "Eén" is "één" in lower case. */
    if (first[0] == 'e' && !strncmp(text + 1, "\xC3\xA9n", 3) &&
        (text[4] == ' ' || text[4] == '\0')) {
        snprintf(out + used, size - used, " %s: \xC3\xA9%s", label, text + 1);
        return;
    }
    snprintf(out + used, size - used, " %s: %s%s", label, first, text + skip);
}

/* Writes the effort of an entry after `out`: the estimate of the time,
 * then who takes part, where and what it costs, each with its label. */
static void describe_effort(const json_t *effort, char *out, size_t size)
{
    for (size_t i = 0; i < sizeof effort_parts / sizeof *effort_parts; i++) {
        const char *part =
            json_string_value(json_object_get(effort, effort_parts[i].field));
        if (!part || !*part)
            continue;
        size_t used = strlen(out);
        if (!strcmp(part, "Niet bekend."))
            snprintf(out + used, size - used, " %s", effort_parts[i].unknown);
        else if (!effort_parts[i].label)
            snprintf(out + used, size - used, " %s", part);
        else
            append_labelled(out, size, effort_parts[i].label, part);
    }
}

/* Returns 1 when `entry` has something to say for `field`. */
static int has_field(const json_t *entry, const char *field)
{
    const json_t *value = json_object_get(entry, field);
    if (!strcmp(field, "effort"))
        return json_object_size(value) > 0;
    const char *text = json_string_value(value);
    return text && text[0];
}

/* Says a text of the script, or no_entry when the script lacks it. */
static void say_text_or_no_entry(eng_turn_t *t, const char *key)
{
    eng_say_key(t, json_object_get(t->script->texts, key) ? key : "no_entry");
}

/* Asks which of the cards shown the visitor means, with a button per
 * card, and keeps the field in the state's "ask_field": the visitor's
 * next message that names one of them gets that field. */
static void ask_which_entry(eng_turn_t *t, const char *field)
{
    json_t *qr = json_array();
    size_t i;
    json_t *id;
    json_array_foreach(json_object_get(t->state, "shown"), i, id)
    {
        const json_t *entry = kb_entry(t->content->kb, json_string_value(id));
        const char *title = json_string_value(json_object_get(entry, "title"));
        if (title)
            json_array_append_new(
                qr, json_pack("{s:s, s:s}", "label", title, "value", title));
    }
    const char *key = json_object_get(t->script->texts, "which_entry")
                          ? "which_entry"
                          : "no_entry";
    const char *text =
        eng_pick_variant(t, json_object_get(t->script->texts, key));
    char *expanded = eng_expand(t, text ? text : "");
    eng_say(t, "bot", expanded ? expanded : "", qr, NULL);
    free(expanded);
    json_object_set_new(t->state, "ask_field", json_string(field));
    t->halt = 1;
}

/* A card for `entry`: {title, url, summary, why: []}. The caller frees. */
static json_t *entry_card(const json_t *entry)
{
    const char *url = json_string_value(json_object_get(entry, "url"));
    return json_pack(
        "{s:s, s:o, s:s, s:[]}", "title",
        or_empty(json_string_value(json_object_get(entry, "title"))), "url",
        url ? json_string(url) : json_null(), "summary",
        or_empty(json_string_value(json_object_get(entry, "summary"))), "why");
}

/* Returns a card for `entry` unless the conversation showed it already
 * and `always` is 0, and records it as shown in the state's "carded". A
 * follow-up about cost or joining then reads without the same card again.
 * The caller frees. */
static json_t *card_once(eng_turn_t *t, const json_t *entry, int always)
{
    const char *id = json_string_value(json_object_get(entry, "id"));
    json_t *carded = json_object_get(t->state, "carded");
    if (!json_is_array(carded)) {
        carded = json_array();
        json_object_set_new(t->state, "carded", carded);
    }
    int seen = id && id_listed(carded, id);
    if (seen && !always)
        return NULL;
    if (!seen && id)
        json_array_append_new(carded, json_string(id));
    return entry_card(entry);
}

/* Writes the labels of the facet values in `values` to `out`, joined by
 * "; " ("lager onderwijs; secundair onderwijs, 1e graad"), because a
 * label may contain a comma. */
static void join_facet_labels(eng_turn_t *t, const char *facet,
                              const json_t *values, char *out, size_t size)
{
    size_t used = 0, i;
    json_t *value;
    out[0] = '\0';
    json_array_foreach(values, i, value)
    {
        const char *id = or_empty(json_string_value(value));
        const char *label = kb_facet_label(t->content->kb, facet, id);
        used += (size_t)snprintf(out + used, size - used, "%s%s",
                                 used ? "; " : "", label ? label : id);
        if (used >= size)
            return;
    }
}

/* Appends to `out` the facts by which two entries are compared, one line
 * each in the summary template of the slot for that fact: target group
 * ("Doelgroep: ..."), time (the estimate of hours per year) and region. */
static void append_entry_facts(eng_turn_t *t, const json_t *entry, char *out,
                               size_t size)
{
    const char *name;
    json_t *slot;
    json_object_foreach(t->script->slots, name, slot)
    {
        const char *entity = json_string_value(json_object_get(slot, "entity"));
        const char *summary =
            json_string_value(json_object_get(slot, "summary"));
        char label[512] = "";
        if (!entity || !summary)
            continue;
        if (!strcmp(entity, "time")) {
            double per_year = json_number_value(json_object_get(
                json_object_get(entry, "effort"), "hours_per_year"));
            if (per_year > 0)
                eng_time_label(t, per_year / 12.0, 1, label, sizeof label);
        } else if (!strcmp(entity, "level")) {
            join_facet_labels(t, entity, json_object_get(entry, "levels"),
                              label, sizeof label);
        } else if (!strcmp(entity, "region")) {
            join_facet_labels(t, entity, json_object_get(entry, "regions"),
                              label, sizeof label);
        }
        if (!label[0])
            continue;
        const char *keys[] = {"label", "slot"};
        const char *values[] = {
            label, json_string_value(json_object_get(slot, "label"))};
        char line[640];
        eng_fill(line, sizeof line, summary, keys, values, 2);
        append_line(out, size, line);
    }
}

/* Describes the two entries of a comparison ("wat is het verschil tussen
 * X en Y") one after the other, after the text compare_intro: the
 * summary of each with its target group, time and region, and a card. */
static void compare_entries(eng_turn_t *t)
{
    const char *ids[] = {t->named, t->compared};
    eng_say_key(t, "compare_intro");
    for (size_t i = 0; i < 2; i++) {
        const json_t *entry = kb_entry(t->content->kb, ids[i]);
        if (!entry)
            continue;
        char text[ENG_TEXT_MAX];
        snprintf(
            text, sizeof text, "%s: %s",
            or_empty(json_string_value(json_object_get(entry, "title"))),
            or_empty(json_string_value(json_object_get(entry, "summary"))));
        append_entry_facts(t, entry, text, sizeof text);
        json_t *card = card_once(t, entry, 1);
        eng_say(t, "bot", text, NULL, card ? json_pack("[o]", card) : NULL);
    }
    json_object_set_new(t->state, "entry", json_string(t->named));
    const json_t *first = kb_entry(t->content->kb, t->named);
    const char *type = json_string_value(json_object_get(first, "type"));
    if (type && !strcmp(type, "initiative"))
        json_object_set_new(t->state, "initiative", json_string(t->named));
}

/* Describes one field of the named entry. Without one, the only card
 * shown is meant; among several cards the visitor is asked which one.
 * An entry without the field (a good practice has no benefits) gives way
 * to the initiative last described, and else the bot says it has no
 * information: an empty field is never shown. */
static int names_value(const json_t *entry, const char *field,
                       const char *value);

/* After the summary of an organisation that lists one partner per province
 * as related ("het RTC"), names the visitor's with the text
 * "entry_in_region" and makes it the state's partner. */
static void append_regional(eng_turn_t *t, const json_t *entry, char *text,
                            size_t size)
{
    const char *region = slot_value(t, "region");
    const char *type = json_string_value(json_object_get(entry, "type"));
    if (!region || !type || strcmp(type, "organisation") != 0 ||
        !json_object_get(t->script->texts, "entry_in_region"))
        return;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(entry, "related"), i, v)
    {
        const char *id = json_string_value(v);
        const json_t *other = id ? kb_entry(t->content->kb, id) : NULL;
        const char *kind = json_string_value(json_object_get(other, "type"));
        if (!kind || strcmp(kind, "partner") != 0 ||
            !names_value(other, "regions", region))
            continue;
        json_object_set_new(t->state, "partner", json_string(id));
        char *line = eng_expand(
            t, eng_pick_variant(
                   t, json_object_get(t->script->texts, "entry_in_region")));
        if (line)
            append_line(text, size, line);
        free(line);
        return;
    }
}

static const char *describe_entry(eng_turn_t *t, const json_t *action)
{
    const char *field = json_string_value(json_object_get(action, "field"));
    if (!field)
        field = "summary";
    /* The answer to "which one?" gets the field that was asked for. */
    if (t->field[0])
        field = t->field;
    const char *id = json_string_value(json_object_get(action, "entry"));
    if (!id && t->compared[0] && t->content->kb) {
        compare_entries(t);
        return NULL;
    }
    if (!id)
        id = eng_state_str(t->state, "entry");
    json_t *shown = json_object_get(t->state, "shown");
    if (!id && json_array_size(shown) == 1)
        id = json_string_value(json_array_get(shown, 0));
    if (!id && json_array_size(shown) > 1 && t->content->kb) {
        ask_which_entry(t, field);
        return NULL;
    }
    /* No entry was named, described or shown: the script may answer in
     * general terms ("wat levert het op?" as a first question). */
    const char *none = json_string_value(json_object_get(action, "none"));
    if (!id && none)
        return none;
    /* A copy: the state's strings change below. */
    char id_buffer[KB_ID_MAX];
    snprintf(id_buffer, sizeof id_buffer, "%s", or_empty(id));
    id = id ? id_buffer : NULL;
    const json_t *entry =
        id && t->content->kb ? kb_entry(t->content->kb, id) : NULL;
    if (!entry) {
        eng_say_key(t, "no_entry");
        if (t->event->text)
            json_array_append_new(t->effects,
                                  json_pack("{s:s, s:s}", "type", "unanswered",
                                            "text", t->event->text));
        return NULL;
    }
    json_object_set_new(t->state, "entry", json_string(id));
    if (!has_field(entry, field)) {
        const char *last = eng_state_str(t->state, "initiative");
        const json_t *other = last ? kb_entry(t->content->kb, last) : NULL;
        if (!other || !has_field(other, field)) {
            say_text_or_no_entry(t, "no_field");
            return NULL;
        }
        snprintf(id_buffer, sizeof id_buffer, "%s", last);
        entry = other;
    }
    json_object_set_new(t->state, "entry", json_string(id));
    const char *type = json_string_value(json_object_get(entry, "type"));
    if (type && !strcmp(type, "initiative"))
        json_object_set_new(t->state, "initiative", json_string(id));
    char text[ENG_TEXT_MAX] = "";
    const char *title = json_string_value(json_object_get(entry, "title"));
    if (!strcmp(field, "effort")) {
        snprintf(text, sizeof text, "%s:", title);
        describe_effort(json_object_get(entry, "effort"), text, sizeof text);
    } else {
        const char *value = json_string_value(json_object_get(entry, field));
        snprintf(text, sizeof text, "%s: %s", title, value);
        if (!strcmp(field, "summary")) {
            const char *join =
                json_string_value(json_object_get(entry, "how_to_join"));
            if (join)
                append_line(text, sizeof text, join);
            append_regional(t, entry, text, sizeof text);
        }
    }
    /* The description itself always carries the card; a follow-up
     * (effort, benefits, joining) only the first time. */
    json_t *card = card_once(t, entry, !strcmp(field, "summary"));
    eng_say(t, "bot", text, NULL, card ? json_pack("[o]", card) : NULL);
    return NULL;
}

/* Returns 1 when the entry's `field` array names `value` itself rather
 * than covering it with "alle" or all of Flanders. */
static int names_value(const json_t *entry, const char *field,
                       const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(entry, field), i, v)
    {
        if (!strcmp(or_empty(json_string_value(v)), value))
            return 1;
    }
    return 0;
}

/* Finds a partner that can take a request: a sector fund or federation of
 * the visitor's sector, else a regional partner (RTC or POM) of the
 * province. Sets or clears "partner" in the state. */
static void find_partner(eng_turn_t *t)
{
    json_object_del(t->state, "partner");
    const char *sector = slot_value(t, "sector");
    const char *region = slot_value(t, "region");
    kb_hit_t hits[16];
    size_t n = 0;
    if (!t->content->kb || (!sector && !region) ||
        kb_find_partners(t->content->kb, sector, region, hits, 16, &n) != 0)
        return;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const json_t *entry = kb_entry(t->content->kb, hits[i].id);
            json_t *partner = json_object_get(entry, "partner");
            const char *kind =
                or_empty(json_string_value(json_object_get(partner, "kind")));
            if (!json_is_true(json_object_get(partner, "dispatch")))
                continue;
            int fits = pass == 0 ? sector &&
                                       (!strcmp(kind, "sector-fund") ||
                                        !strcmp(kind, "federation")) &&
                                       names_value(entry, "sectors", sector)
                                 : region &&
                                       (!strcmp(kind, "rtc") ||
                                        !strcmp(kind, "pom")) &&
                                       names_value(entry, "regions", region);
            if (!fits)
                continue;
            json_object_set_new(t->state, "partner", json_string(hits[i].id));
            return;
        }
    }
}

static const char *reason_detail(const char *reason)
{
    if (!strcmp(reason, "visitor_request"))
        return "visitor asked for a person";
    if (!strcmp(reason, "frustration"))
        return "visitor seems frustrated";
    if (!strcmp(reason, "out_of_scope"))
        return "question outside the desk's scope";
    if (!strcmp(reason, "tailored_advice"))
        return "needs tailored advice (subsidies, legal or contract details)";
    return "bot stayed unsure after clarifying";
}

static void escalate(eng_turn_t *t, const json_t *action)
{
    const char *reason = json_string_value(json_object_get(action, "reason"));
    if (!reason)
        reason = json_string_value(
            json_object_get(json_object_get(t->state, "escalation"), "reason"));
    if (!reason)
        reason = "unsure";
    char detail[256];
    snprintf(detail, sizeof detail, "%s; last intent %s (%.2f); node %s",
             reason_detail(reason), t->intent[0] ? t->intent : "none", t->score,
             eng_state_str(t->state, "node") ? eng_state_str(t->state, "node")
                                             : "none");
    json_object_set_new(t->state, "escalation",
                        json_pack("{s:s}", "reason", reason));
    /* "live" tells the caller whether an advisor can take over now; when
     * not, the bot offers a callback and the live queue stays clean. */
    int live = t->event->advisors_online > 0 && t->event->office_open;
    json_array_append_new(
        t->effects, json_pack("{s:s, s:s, s:s, s:o, s:b}", "type", "escalate",
                              "reason", reason, "detail", detail, "slots",
                              eng_slots_summary(t->state), "live", live));
}

static void collect_contact(eng_turn_t *t)
{
    json_t *contact = json_object_get(t->state, "contact");
    if (!json_is_true(json_object_get(t->state, "consent")) || !contact)
        return;
    json_t *fields[3];
    const char *keys[] = {"name", "email", "phone"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(contact, keys[i]);
        fields[i] = v ? json_copy(v) : json_null();
    }
    json_array_append_new(t->effects,
                          json_pack("{s:s, s:o, s:o, s:o, s:b, s:o}", "type",
                                    "callback", "name", fields[0], "email",
                                    fields[1], "phone", fields[2], "consent", 1,
                                    "slots", eng_slots_summary(t->state)));
    /* The caller stores the request; the state keeps no contact data. */
    json_object_del(t->state, "contact");
    json_object_set_new(t->state, "callback", json_true());
}

const char *eng_run_action(eng_turn_t *t, const json_t *action)
{
    const char *name = json_string_value(json_object_get(action, "do"));
    if (!strcmp(name, "search_kb"))
        search_initiatives(t, action);
    else if (!strcmp(name, "show_checklist"))
        return show_checklist(t, action);
    else if (!strcmp(name, "show_route"))
        return show_route(t, action);
    else if (!strcmp(name, "describe_entry"))
        return describe_entry(t, action);
    else if (!strcmp(name, "offer_partner"))
        find_partner(t);
    else if (!strcmp(name, "forward_partner")) {
        const char *partner = eng_state_str(t->state, "partner");
        const char *reason =
            json_string_value(json_object_get(action, "reason"));
        if (!reason)
            reason = json_string_value(json_object_get(
                json_object_get(t->state, "escalation"), "reason"));
        if (partner)
            json_array_append_new(
                t->effects, json_pack("{s:s, s:s, s:s, s:o}", "type", "partner",
                                      "partner", partner, "reason",
                                      reason ? reason : "partner_contact",
                                      "slots", eng_slots_summary(t->state)));
    } else if (!strcmp(name, "escalate"))
        escalate(t, action);
    else if (!strcmp(name, "wait_advisor"))
        eng_effect_status(t, "waiting");
    else if (!strcmp(name, "collect_contact"))
        collect_contact(t);
    else if (!strcmp(name, "set_slot")) {
        const char *slot = json_string_value(json_object_get(action, "slot"));
        const char *value = json_string_value(json_object_get(action, "value"));
        json_object_set_new(
            json_object_get(t->state, "slots"), slot,
            value ? json_pack("{s:s, s:s}", "value", value, "text", "")
                  : json_pack("{s:b}", "unknown", 1));
    } else if (!strcmp(name, "clear_slot"))
        json_object_del(json_object_get(t->state, "slots"),
                        json_string_value(json_object_get(action, "slot")));
    else if (!strcmp(name, "unanswered")) {
        if (t->event->text)
            json_array_append_new(t->effects,
                                  json_pack("{s:s, s:s}", "type", "unanswered",
                                            "text", t->event->text));
    } else if (!strcmp(name, "goto"))
        return json_string_value(json_object_get(action, "node"));
    else if (!strcmp(name, "end"))
        json_array_clear(json_object_get(t->state, "stack"));
    /* "ask_consent" only marks the node; eng_step records the answer. */
    return NULL;
}

/* ---- conditions ---- */

static int matches_name(const json_t *spec, const char *value)
{
    if (json_is_string(spec))
        return !strcmp(json_string_value(spec), value);
    size_t i;
    json_t *item;
    json_array_foreach(
        spec, i, item) if (!strcmp(json_string_value(item), value)) return 1;
    return 0;
}

static int slot_has_value(eng_turn_t *t, const char *slot)
{
    return json_object_get(
               json_object_get(json_object_get(t->state, "slots"), slot),
               "value") != NULL;
}

/* Returns 1 when the visitor's text contains one of the phrases in
 * `phrases` as whole words (see eng_has_words). */
static int text_has_words(eng_turn_t *t, const json_t *phrases)
{
    const char *text = t->event->text;
    if (!text)
        return 0;
    char folded[1024];
    nlu_fold(text, strlen(text), folded, sizeof folded);
    size_t i;
    json_t *item;
    json_array_foreach(phrases, i, item)
    {
        if (eng_has_words(folded, or_empty(json_string_value(item))))
            return 1;
    }
    return 0;
}

int eng_condition(eng_turn_t *t, const json_t *when)
{
    const char *key;
    json_t *v;
    json_t *slots = json_object_get(t->state, "slots");
    json_object_foreach((json_t *)when, key, v)
    {
        int holds = 1;
        if (!strcmp(key, "intent"))
            holds = matches_name(v, t->intent);
        else if (!strcmp(key, "slot_missing"))
            holds = !json_object_get(slots, json_string_value(v));
        else if (!strcmp(key, "slot_set"))
            holds = slot_has_value(t, json_string_value(v));
        else if (!strcmp(key, "slot_is")) {
            const char *slot;
            json_t *expected;
            json_object_foreach(v, slot, expected)
            {
                const char *value = json_string_value(
                    json_object_get(json_object_get(slots, slot), "value"));
                if (!value || !json_is_string(expected) ||
                    strcmp(value, json_string_value(expected)) != 0)
                    holds = 0;
            }
        } else if (!strcmp(key, "filled_any"))
            holds = (t->filled_any != 0) == json_is_true(v);
        else if (!strcmp(key, "named_entry"))
            holds = (t->named[0] != 0) == json_is_true(v);
        else if (!strcmp(key, "advisor_available"))
            holds = (t->event->advisors_online > 0 && t->event->office_open) ==
                    json_is_true(v);
        else if (!strcmp(key, "office_open"))
            holds = (t->event->office_open != 0) == json_is_true(v);
        else if (!strcmp(key, "partner_found"))
            holds = (json_object_get(t->state, "partner") != NULL) ==
                    json_is_true(v);
        else if (!strcmp(key, "consent"))
            holds = json_is_true(json_object_get(t->state, "consent")) ==
                    json_is_true(v);
        else if (!strcmp(key, "reason")) {
            const char *reason = json_string_value(json_object_get(
                json_object_get(t->state, "escalation"), "reason"));
            holds = reason && matches_name(v, reason);
        } else if (!strcmp(key, "words"))
            holds = text_has_words(t, v);
        else if (!strcmp(key, "callback_stored"))
            holds = json_is_true(json_object_get(t->state, "callback")) ==
                    json_is_true(v);
        else if (!strcmp(key, "topic")) {
            const char *topic = eng_state_str(t->state, "_topic");
            holds = topic && !strcmp(topic, json_string_value(v));
        }
        if (!holds)
            return 0;
    }
    return 1;
}
