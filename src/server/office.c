/* Office hours from the settings, for the engine's escalation policy. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/server_internal.h"

/* Parses "HH:MM" into minutes after midnight; -1 when invalid. */
static int parse_minutes(const char *text)
{
    int hours, minutes;
    char rest;
    if (!text || sscanf(text, "%d:%d%c", &hours, &minutes, &rest) != 2 ||
        hours < 0 || hours > 24 || minutes < 0 || minutes > 59)
        return -1;
    return hours * 60 + minutes;
}

int srv_office_open(const cfg_t *cfg, long long now)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed",
                                       "thu", "fri", "sat"};
    /* Local time follows TZ, which srv_run() sets from cfg->timezone. */
    time_t t = (time_t)now;
    struct tm local;
    if (!localtime_r(&t, &local))
        return 0;
    const json_t *range =
        json_object_get(cfg->office_hours, days[local.tm_wday]);
    int open = parse_minutes(json_string_value(json_array_get(range, 0)));
    int close = parse_minutes(json_string_value(json_array_get(range, 1)));
    int minute = local.tm_hour * 60 + local.tm_min;
    return open >= 0 && close >= 0 && minute >= open && minute < close;
}
