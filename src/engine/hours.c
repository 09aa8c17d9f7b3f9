/* The office hours of the event as Dutch text, for the {office_hours}
 * placeholder: {"mon": ["09:00", "17:00"], ..., "fri": ["09:00", "17:00"]}
 * reads "van maandag tot en met vrijdag van 9.00 tot 17.00 uur". Days with
 * the same hours are named together. Every Dutch word comes from the
 * script's office_* texts. */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

#define DAYS 7
#define PART_MAX 512

/* The setting's day names, Monday first, as the texts list them. */
static const char *const day_keys[DAYS] = {"mon", "tue", "wed", "thu",
                                           "fri", "sat", "sun"};

typedef struct {
    int open, close; /* minutes past midnight; open < 0 when closed */
} span_t;

/* Reads "HH:MM" (00:00 to 24:00) as minutes, or returns -1. */
static int parse_clock(const char *text)
{
    int hours, minutes, used = 0;
    if (!text || sscanf(text, "%2d:%2d%n", &hours, &minutes, &used) != 2 ||
        used != 5 || text[used] != '\0')
        return -1;
    if (hours < 0 || hours > 24 || minutes < 0 || minutes > 59 ||
        (hours == 24 && minutes != 0))
        return -1;
    return hours * 60 + minutes;
}

/* Reads the span of each day; a day that is missing or malformed is
 * closed. */
static void read_spans(const json_t *hours, span_t spans[DAYS])
{
    for (int d = 0; d < DAYS; d++) {
        const json_t *span = json_object_get(hours, day_keys[d]);
        spans[d].open = parse_clock(json_string_value(json_array_get(span, 0)));
        spans[d].close =
            parse_clock(json_string_value(json_array_get(span, 1)));
        if (json_array_size(span) != 2 || spans[d].close <= spans[d].open)
            spans[d].open = -1;
    }
}

/* Writes minutes past midnight the Flemish way: "9.00", "17.30". */
static void format_clock(int minutes, char *out, size_t size)
{
    snprintf(out, size, "%d.%02d", minutes / 60, minutes % 60);
}

static const char *text_of(const eng_turn_t *t, const char *key)
{
    return or_empty(json_string_value(json_object_get(t->script->texts, key)));
}

/* Joins `count` parts as "a", "a en b" or "a, b en c". */
static void join_parts(const eng_turn_t *t, char parts[][PART_MAX],
                       size_t count, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++) {
        const char *separator = "";
        char and_word[64];
        if (i > 0 && i + 1 < count)
            separator = ", ";
        else if (i > 0) {
            snprintf(and_word, sizeof and_word, " %s ",
                     text_of(t, "office_and"));
            separator = and_word;
        }
        int n = snprintf(out + used, size - used, "%s%s", separator, parts[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/* Names a set of days: every day, a run of three or more as a range
 * ("van maandag tot en met vrijdag"), else a list ("op maandag en
 * woensdag"). */
static void describe_days(const eng_turn_t *t, const int days[DAYS],
                          size_t count, char *out, size_t size)
{
    const json_t *names = json_object_get(t->script->texts, "office_weekdays");
    if (count == DAYS) {
        snprintf(out, size, "%s", text_of(t, "office_days_every"));
        return;
    }
    if (count >= 3 && days[count - 1] - days[0] == (int)count - 1) {
        const char *keys[] = {"first", "last"};
        const char *values[] = {
            json_string_value(json_array_get(names, (size_t)days[0])),
            json_string_value(json_array_get(names, (size_t)days[count - 1]))};
        eng_fill(out, size, text_of(t, "office_days_range"), keys, values, 2);
        return;
    }
    char parts[DAYS][PART_MAX];
    for (size_t i = 0; i < count; i++)
        snprintf(parts[i], PART_MAX, "%s",
                 or_empty(json_string_value(
                     json_array_get(names, (size_t)days[i]))));
    char list[PART_MAX];
    join_parts(t, parts, count, list, sizeof list);
    const char *keys[] = {"days"};
    const char *values[] = {list};
    eng_fill(out, size, text_of(t, "office_days_list"), keys, values, 1);
}

const char *eng_office_hours(eng_turn_t *t, char *buffer, size_t size)
{
    span_t spans[DAYS];
    read_spans(t->event->office_hours, spans);

    /* One group per distinct span, in the order of its first day. */
    char groups[DAYS][PART_MAX];
    size_t group_count = 0;
    int told[DAYS] = {0};
    for (int d = 0; d < DAYS; d++) {
        if (spans[d].open < 0 || told[d])
            continue;
        int days[DAYS];
        size_t count = 0;
        for (int e = d; e < DAYS; e++) {
            if (spans[e].open == spans[d].open &&
                spans[e].close == spans[d].close) {
                days[count++] = e;
                told[e] = 1;
            }
        }
        char names[PART_MAX], open[16], close[16];
        describe_days(t, days, count, names, sizeof names);
        format_clock(spans[d].open, open, sizeof open);
        format_clock(spans[d].close, close, sizeof close);
        const char *keys[] = {"days", "open", "close"};
        const char *values[] = {names, open, close};
        eng_fill(groups[group_count++], PART_MAX,
                 text_of(t, "office_hours_span"), keys, values, 3);
    }

    if (group_count == 0)
        snprintf(buffer, size, "%s", text_of(t, "office_hours_none"));
    else
        join_parts(t, groups, group_count, buffer, size);
    return buffer;
}
