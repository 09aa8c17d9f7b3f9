#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

static log_level_t current_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

void log_set_level(log_level_t level)
{
    current_level = level;
}

log_level_t log_get_level(void)
{
    return current_level;
}

int log_level_parse(const char *name, log_level_t *out)
{
    for (int i = 0; i <= LOG_LEVEL_OFF; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void log_write(log_level_t level, const char *component, const char *fmt, ...)
{
    if (level < current_level || level >= LOG_LEVEL_OFF)
        return;

    struct timeval now;
    gettimeofday(&now, NULL);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);

    /* Format into one buffer so that concurrent threads (the outbox worker)
     * never interleave halves of two lines. */
    char line[1024];
    int used =
        snprintf(line, sizeof line, "%s.%03ldZ %-5s [%s] ", stamp,
                 (long)(now.tv_usec / 1000), level_names[level], component);
    if (used < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    if ((size_t)used < sizeof line)
        vsnprintf(line + used, sizeof line - (size_t)used, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
