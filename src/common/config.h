/* Settings of the desk: embedded defaults, an optional JSON config file and
 * command-line flags, applied in that order. Every setting has one name: the
 * JSON key "max_frame_bytes" is the flag --max-frame-bytes. */
#ifndef STEMDESK_CONFIG_H
#define STEMDESK_CONFIG_H

#include <stddef.h>

#include <jansson.h>

typedef struct {
    char *listen; /* address to bind */
    int port;
    char *dialogs_dir;
    char *intents_dir;
    char *kb_dir;
    char *lang_dir;
    char *web_dir;
    char *db_path;
    char *log_level;

    int max_frame_bytes;          /* largest accepted WebSocket frame */
    int rate_messages_per_minute; /* per socket */
    int max_sockets_per_address;
    int max_sockets;         /* total open sockets */
    json_t *allowed_origins; /* array of strings; empty: same host */
    int retention_days;      /* conversations older are purged */
    int commit_interval_ms;  /* longest wait to group writes */
    char *db_synchronous;    /* SQLite synchronous mode: "full" or "normal" */

    int advisor_answer_seconds;    /* unanswered takeover returns to queue */
    int advisor_reconnect_seconds; /* a lost console keeps what it held */
    json_t *office_hours;          /* {"mon": ["09:00","17:00"], ...} */
    char *timezone;                /* for office hours, e.g. Europe/Brussels */
    int session_hours;             /* console login lifetime */
    int login_attempts_per_minute;

    json_t *partners;        /* {"kb-id": {"url": "...", ...}} */
    int outbox_max_attempts; /* before a request is shown as failed */
    int outbox_backoff_seconds;

    char *event_loop; /* "epoll" (libev) or "poll" */
} cfg_t;

/* Fills `cfg` with the embedded defaults. Release with cfg_free(). */
void cfg_defaults(cfg_t *cfg);
void cfg_free(cfg_t *cfg);

/* Applies a JSON config file. On error writes a message that names the
 * file, the key and what is expected into `err` and returns -1; `cfg` may
 * then hold some of the file's values. */
int cfg_load_file(cfg_t *cfg, const char *path, char *err, size_t size);

/* Sets one setting from its flag name ("max-frame-bytes") and text value.
 * Returns 0, 1 when no setting has that name, or -1 with `err` filled when
 * the value is invalid. */
int cfg_set(cfg_t *cfg, const char *name, const char *value, char *err,
            size_t size);

/* Checks values that need more than a type check: office hours, time
 * zone, origins and partner webhooks. Returns -1 with `err` naming the
 * setting and the expected form, or 0. cli_parse() calls it. */
int cfg_validate(const cfg_t *cfg, char *err, size_t size);

/* Returns 1 when a flag name ("max-frame-bytes") names a setting. */
int cfg_is_setting(const char *name);

/* Writes one help line per setting: flag, unit and default. */
void cfg_print_help(FILE *out);

/* A flag that belongs to one command rather than to the settings. */
typedef struct {
    const char *name; /* without dashes */
    const char *arg;  /* value name for help, NULL for a switch */
    const char *help;
    const char **value; /* receives the value, or "1" for a switch */
} cli_flag_t;

/* Writes into `nearest` the known option (a command flag, a setting or
 * "config", without dashes) nearest to `name` when it is at most two
 * edits away. Returns 1 when there is one, 0 otherwise. */
int cli_nearest_option(const char *name, const cli_flag_t *flags,
                       size_t flag_count, char *nearest, size_t size);

/* Parses a command's arguments: --config FILE first, then every other
 * --flag (command flags before settings), leaving positional arguments in
 * `positional` (at most max_positional). Prints usage and returns 1 for
 * --help, prints an error and returns 2 for a bad argument, and returns 0
 * otherwise. */
int cli_parse(cfg_t *cfg, const char *command, const char *usage, int argc,
              char **argv, const cli_flag_t *flags, size_t flag_count,
              const char **positional, size_t max_positional,
              size_t *positional_count);

#endif
