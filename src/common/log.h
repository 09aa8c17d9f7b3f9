/* Levelled logging to stderr: one line per event with UTC time, level and
 * component. Callers log ids (conversation, advisor) but never message text
 * or contact details. */
#ifndef STEMDESK_LOG_H
#define STEMDESK_LOG_H

typedef enum {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
    LOG_LEVEL_OFF
} log_level_t;

/* Sets the lowest level that is written; the default is LOG_LEVEL_INFO. */
void log_set_level(log_level_t level);
log_level_t log_get_level(void);

/* Parses "debug", "info", "warn", "error" or "off"; returns -1 otherwise. */
int log_level_parse(const char *name, log_level_t *out);

void log_write(log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_DEBUG(comp, ...) log_write(LOG_LEVEL_DEBUG, comp, __VA_ARGS__)
#define LOG_INFO(comp, ...) log_write(LOG_LEVEL_INFO, comp, __VA_ARGS__)
#define LOG_WARN(comp, ...) log_write(LOG_LEVEL_WARN, comp, __VA_ARGS__)
#define LOG_ERROR(comp, ...) log_write(LOG_LEVEL_ERROR, comp, __VA_ARGS__)

#endif
