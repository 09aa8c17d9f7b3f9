/* Rules of the advisor queue: see assign.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/assign.h"

static const char *const presence_names[] = {"offline", "away", "online"};

int handoff_presence_parse(const char *name, handoff_presence_t *out)
{
    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, presence_names[i]) == 0) {
            *out = (handoff_presence_t)i;
            return 0;
        }
    }
    return -1;
}

const char *handoff_presence_name(handoff_presence_t presence)
{
    if ((int)presence < 0 || (int)presence > 2)
        return "offline";
    return presence_names[presence];
}

int handoff_state_parse(const char *name, handoff_state_t *out)
{
    static const char *const names[] = {"waiting", "taken", "closed"};

    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, names[i]) == 0) {
            *out = (handoff_state_t)i;
            return 0;
        }
    }
    return -1;
}

size_t handoff_online_count(const handoff_advisor_t *advisors, size_t count)
{
    size_t online = 0;

    for (size_t i = 0; i < count; i++)
        if (advisors[i].presence == HANDOFF_ONLINE)
            online++;
    return online;
}

size_t handoff_offer_targets(const handoff_item_t *item,
                             const handoff_advisor_t *advisors, size_t count,
                             long long *ids)
{
    size_t n = 0;

    if (item->state != HANDOFF_WAITING)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (advisors[i].presence == HANDOFF_ONLINE)
            ids[n++] = advisors[i].id;
    return n;
}

handoff_claim_t handoff_claim(handoff_item_t *item,
                              const handoff_advisor_t *advisor, long long now)
{
    if (item->state == HANDOFF_CLOSED)
        return HANDOFF_CLAIM_CLOSED;
    if (item->state == HANDOFF_TAKEN)
        return HANDOFF_CLAIM_TAKEN;
    if (advisor->presence != HANDOFF_ONLINE)
        return HANDOFF_CLAIM_NOT_ONLINE;
    item->state = HANDOFF_TAKEN;
    item->advisor_id = advisor->id;
    item->taken_at = now;
    item->answered_at = 0;
    return HANDOFF_CLAIM_OK;
}

handoff_check_t handoff_check(const handoff_item_t *item,
                              handoff_presence_t holder, int answer_seconds,
                              long long now)
{
    switch (item->state) {
    case HANDOFF_TAKEN:
        if (holder == HANDOFF_OFFLINE)
            return HANDOFF_REQUEUE_OFFLINE;
        if (item->answered_at == 0 && now - item->taken_at >= answer_seconds)
            return HANDOFF_REQUEUE_SILENT;
        return HANDOFF_KEEP;
    case HANDOFF_WAITING:
        if (!item->timeout_sent && now - item->queued_at >= answer_seconds)
            return HANDOFF_NOTIFY_TIMEOUT;
        return HANDOFF_KEEP;
    case HANDOFF_CLOSED:
        break;
    }
    return HANDOFF_KEEP;
}

handoff_presence_t handoff_holder_presence(handoff_presence_t live,
                                           long long lost_at,
                                           int reconnect_seconds, long long now)
{
    if (live == HANDOFF_OFFLINE && lost_at > 0 &&
        now - lost_at < reconnect_seconds)
        return HANDOFF_AWAY;
    return live;
}

/* Parses "HH:MM" into minutes past midnight; -1 when malformed. */
static int parse_clock(const char *text)
{
    int hours;
    int minutes;
    char tail;

    if (!text || sscanf(text, "%2d:%2d%c", &hours, &minutes, &tail) != 2)
        return -1;
    if (hours < 0 || hours > 24 || minutes < 0 || minutes > 59 ||
        (hours == 24 && minutes != 0))
        return -1;
    return hours * 60 + minutes;
}

int handoff_office_open(const json_t *office_hours, int weekday, int minute)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed",
                                       "thu", "fri", "sat"};
    const json_t *span;
    int open;
    int close;

    if (weekday < 0 || weekday > 6 || !json_is_object(office_hours))
        return 0;
    span = json_object_get(office_hours, days[weekday]);
    if (!json_is_array(span) || json_array_size(span) != 2)
        return 0;
    open = parse_clock(json_string_value(json_array_get(span, 0)));
    close = parse_clock(json_string_value(json_array_get(span, 1)));
    if (open < 0 || close < 0)
        return 0;
    return minute >= open && minute < close;
}

long long handoff_backoff_ms(int attempts, long long base_ms)
{
    const long long cap = 86400LL * 1000;
    long long delay = base_ms > 0 ? base_ms : 1;

    for (int i = 1; i < attempts && delay < cap; i++)
        delay *= 2;
    return delay < cap ? delay : cap;
}
