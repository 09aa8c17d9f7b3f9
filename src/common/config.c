#include "common/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>

#include "common/log.h"

typedef enum { SET_STRING, SET_INT, SET_STRINGS, SET_OBJECT } setting_type_t;

typedef struct {
    const char *key;
    setting_type_t type;
    size_t offset;
    long min, max; /* for SET_INT */
    const char *help;
} setting_t;

#define FIELD(name) offsetof(cfg_t, name)

/* The largest frame a visitor's text of 2000 characters can make: 6 bytes
 * per character when JSON escapes each one (\u0001), plus the frame's
 * other fields. A lower limit would close the socket on a text the
 * protocol accepts, and the widget would send it again on every
 * reconnect. */
#define FRAME_BYTES_MIN 16384

static const setting_t settings[] = {
    {"listen", SET_STRING, FIELD(listen), 0, 0, "address to listen on"},
    {"port", SET_INT, FIELD(port), 1, 65535, "TCP port"},
    {"dialogs_dir", SET_STRING, FIELD(dialogs_dir), 0, 0,
     "folder of dialogue scripts"},
    {"intents_dir", SET_STRING, FIELD(intents_dir), 0, 0,
     "folder of intent files"},
    {"kb_dir", SET_STRING, FIELD(kb_dir), 0, 0,
     "folder of knowledge-base files"},
    {"lang_dir", SET_STRING, FIELD(lang_dir), 0, 0,
     "folder of language data (facets, places, number words)"},
    {"web_dir", SET_STRING, FIELD(web_dir), 0, 0,
     "folder of the widget and console pages"},
    {"db_path", SET_STRING, FIELD(db_path), 0, 0,
     "SQLite database file, created on first start"},
    {"log_level", SET_STRING, FIELD(log_level), 0, 0,
     "debug, info, warn, error or off"},
    {"max_frame_bytes", SET_INT, FIELD(max_frame_bytes), FRAME_BYTES_MIN,
     1048576,
     "largest WebSocket frame accepted, in bytes (at least the frame of the "
     "longest text)"},
    {"rate_messages_per_minute", SET_INT, FIELD(rate_messages_per_minute), 1,
     100000, "messages one socket may send per minute"},
    {"max_sockets_per_address", SET_INT, FIELD(max_sockets_per_address), 1,
     1000000, "open sockets allowed from one IP address"},
    {"max_sockets", SET_INT, FIELD(max_sockets), 16, 1000000,
     "open sockets allowed in total"},
    {"allowed_origins", SET_STRINGS, FIELD(allowed_origins), 0, 0,
     "Origins allowed on /chat, comma-separated; empty: the desk's own"},
    {"retention_days", SET_INT, FIELD(retention_days), 1, 36500,
     "days a conversation is kept before the purge"},
    {"commit_interval_ms", SET_INT, FIELD(commit_interval_ms), 0, 1000,
     "extra wait to group database writes, in milliseconds (writes also "
     "group while the previous commit is being synced)"},
    {"db_synchronous", SET_STRING, FIELD(db_synchronous), 0, 0,
     "\"full\": fsync every commit (survives power loss); \"normal\": "
     "survives a crash of the process only"},
    {"advisor_answer_seconds", SET_INT, FIELD(advisor_answer_seconds), 10,
     86400, "seconds before an unanswered takeover returns to the queue"},
    {"advisor_reconnect_seconds", SET_INT, FIELD(advisor_reconnect_seconds), 0,
     3600,
     "seconds an advisor whose consoles all closed keeps the conversations "
     "held, so that a reload of the page loses none"},
    {"office_hours", SET_OBJECT, FIELD(office_hours), 0, 0,
     "JSON object: weekday (mon..sun) to [\"HH:MM\", \"HH:MM\"]"},
    {"timezone", SET_STRING, FIELD(timezone), 0, 0,
     "time zone of the office hours"},
    {"session_hours", SET_INT, FIELD(session_hours), 1, 720,
     "hours a console login stays valid"},
    {"login_attempts_per_minute", SET_INT, FIELD(login_attempts_per_minute), 1,
     1000, "failed logins allowed per address per minute"},
    {"partners", SET_OBJECT, FIELD(partners), 0, 0,
     "JSON object: partner id to {\"url\": webhook}"},
    {"outbox_max_attempts", SET_INT, FIELD(outbox_max_attempts), 1, 100,
     "deliveries tried before a partner request is shown as failed"},
    {"outbox_backoff_seconds", SET_INT, FIELD(outbox_backoff_seconds), 1, 86400,
     "first retry delay, doubled after each failure"},
    {"event_loop", SET_STRING, FIELD(event_loop), 0, 0,
     "\"epoll\": libev on epoll, where a wake-up costs only the active "
     "sockets; \"poll\": the poll() loop of libwebsockets"},
};

#define SETTING_COUNT (sizeof settings / sizeof settings[0])

/* Writes the flag name of a setting key ("max_frame_bytes" gives
 * "max-frame-bytes"). */
static void key_to_flag(const char *key, char *flag, size_t size)
{
    snprintf(flag, size, "%s", key);
    for (char *c = flag; *c; c++)
        if (*c == '_')
            *c = '-';
}

static void *field_of(cfg_t *cfg, const setting_t *s)
{
    return (char *)cfg + s->offset;
}

static void set_string(cfg_t *cfg, const setting_t *s, const char *value)
{
    char **slot = field_of(cfg, s);
    free(*slot);
    *slot = strdup(value);
}

static void set_json(cfg_t *cfg, const setting_t *s, json_t *value)
{
    json_t **slot = field_of(cfg, s);
    json_decref(*slot);
    *slot = value;
}

void cfg_defaults(cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = strdup("127.0.0.1");
    cfg->port = 8080;
    cfg->dialogs_dir = strdup("./dialogs");
    cfg->intents_dir = strdup("./intents");
    cfg->kb_dir = strdup("./kb");
    cfg->lang_dir = strdup("./lang");
    cfg->web_dir = strdup("./web-widget");
    cfg->db_path = strdup("./var/stemdesk.db");
    cfg->log_level = strdup("info");
    cfg->max_frame_bytes = FRAME_BYTES_MIN;
    cfg->rate_messages_per_minute = 30;
    cfg->max_sockets_per_address = 20;
    cfg->max_sockets = 20000;
    cfg->allowed_origins = json_array();
    cfg->retention_days = 180;
    cfg->commit_interval_ms = 0;
    cfg->db_synchronous = strdup("full");
    cfg->advisor_answer_seconds = 120;
    cfg->advisor_reconnect_seconds = 30;
    cfg->office_hours =
        json_pack("{s:[ss],s:[ss],s:[ss],s:[ss],s:[ss]}", "mon", "09:00",
                  "17:00", "tue", "09:00", "17:00", "wed", "09:00", "17:00",
                  "thu", "09:00", "17:00", "fri", "09:00", "17:00");
    cfg->timezone = strdup("Europe/Brussels");
    cfg->session_hours = 12;
    cfg->login_attempts_per_minute = 5;
    cfg->partners = json_object();
    cfg->outbox_max_attempts = 8;
    cfg->outbox_backoff_seconds = 5;
    cfg->event_loop = strdup("epoll");
}

void cfg_free(cfg_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting_t *s = &settings[i];
        if (s->type == SET_STRING) {
            char **slot = field_of(cfg, s);
            free(*slot);
        } else if (s->type == SET_STRINGS || s->type == SET_OBJECT) {
            json_t **slot = field_of(cfg, s);
            json_decref(*slot);
        }
    }
    memset(cfg, 0, sizeof *cfg);
}

static const setting_t *find_setting(const char *key)
{
    for (size_t i = 0; i < SETTING_COUNT; i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

static const char *type_name(setting_type_t type)
{
    switch (type) {
    case SET_STRING:
        return "a string";
    case SET_INT:
        return "a whole number";
    case SET_STRINGS:
        return "an array of strings";
    case SET_OBJECT:
        return "a JSON object";
    }
    return "a value";
}

/* Checks an integer setting against its range. `where` is the config
 * file, or NULL for the command line, where the flag is named instead of
 * the key. */
static int check_int(const setting_t *s, long long value, const char *where,
                     char *err, size_t size)
{
    if (value >= s->min && value <= s->max)
        return 0;
    char flag[128];
    key_to_flag(s->key, flag, sizeof flag);
    if (where)
        snprintf(err, size,
                 "%s: %s is %lld; expected a whole number from %ld to %ld",
                 where, s->key, value, s->min, s->max);
    else
        snprintf(err, size,
                 "--%s is %lld; expected a whole number from %ld to %ld", flag,
                 value, s->min, s->max);
    return -1;
}

static int check_strings(const setting_t *s, const json_t *value,
                         const char *where, char *err, size_t size)
{
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item)
    {
        if (!json_is_string(item)) {
            snprintf(err, size, "%s: %s[%zu] is not a string; expected %s",
                     where, s->key, i, type_name(s->type));
            return -1;
        }
    }
    return 0;
}

/* Applies one JSON value from the config file. */
static int apply_json(cfg_t *cfg, const setting_t *s, json_t *value,
                      const char *where, char *err, size_t size)
{
    int ok = (s->type == SET_STRING && json_is_string(value)) ||
             (s->type == SET_INT && json_is_integer(value)) ||
             (s->type == SET_STRINGS && json_is_array(value)) ||
             (s->type == SET_OBJECT && json_is_object(value));
    if (!ok) {
        snprintf(err, size, "%s: %s has the wrong type; expected %s", where,
                 s->key, type_name(s->type));
        return -1;
    }
    switch (s->type) {
    case SET_STRING:
        set_string(cfg, s, json_string_value(value));
        return 0;
    case SET_INT:
        if (check_int(s, json_integer_value(value), where, err, size))
            return -1;
        *(int *)field_of(cfg, s) = (int)json_integer_value(value);
        return 0;
    case SET_STRINGS:
        if (check_strings(s, value, where, err, size))
            return -1;
        set_json(cfg, s, json_incref(value));
        return 0;
    case SET_OBJECT:
        set_json(cfg, s, json_incref(value));
        return 0;
    }
    return -1;
}

int cfg_load_file(cfg_t *cfg, const char *path, char *err, size_t size)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line < 0)
            snprintf(err, size, "cannot read config file %s: %s", path,
                     jerr.text);
        else
            snprintf(err, size, "%s:%d:%d: invalid JSON: %s", path, jerr.line,
                     jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        snprintf(err, size, "%s: expected a JSON object of settings", path);
        json_decref(root);
        return -1;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        const setting_t *s = find_setting(key);
        if (!s) {
            snprintf(err, size,
                     "%s: unknown setting \"%s\"; run 'stemdesk serve "
                     "--help' for the list",
                     path, key);
            json_decref(root);
            return -1;
        }
        if (apply_json(cfg, s, value, path, err, size)) {
            json_decref(root);
            return -1;
        }
    }
    json_decref(root);
    return 0;
}

/* Converts a flag name ("max-frame-bytes") into its JSON key. */
static void flag_to_key(const char *name, char *key, size_t size)
{
    snprintf(key, size, "%s", name);
    for (char *c = key; *c; c++)
        if (*c == '-')
            *c = '_';
}

int cfg_is_setting(const char *name)
{
    char key[128];
    flag_to_key(name, key, sizeof key);
    return find_setting(key) != NULL;
}

int cfg_set(cfg_t *cfg, const char *name, const char *value, char *err,
            size_t size)
{
    char key[128];
    flag_to_key(name, key, sizeof key);
    const setting_t *s = find_setting(key);
    if (!s)
        return 1;

    switch (s->type) {
    case SET_STRING:
        set_string(cfg, s, value);
        return 0;
    case SET_INT: {
        char *end;
        errno = 0;
        long long n = strtoll(value, &end, 10);
        if (errno || end == value || *end) {
            snprintf(err, size, "--%s: \"%s\" is not a whole number", name,
                     value);
            return -1;
        }
        if (check_int(s, n, NULL, err, size))
            return -1;
        *(int *)field_of(cfg, s) = (int)n;
        return 0;
    }
    case SET_STRINGS: {
        json_t *list = json_array();
        char *copy = strdup(value);
        char *save = NULL;
        for (char *part = strtok_r(copy, ",", &save); part;
             part = strtok_r(NULL, ",", &save))
            if (*part)
                json_array_append_new(list, json_string(part));
        free(copy);
        set_json(cfg, s, list);
        return 0;
    }
    case SET_OBJECT: {
        json_error_t jerr;
        json_t *obj = json_loads(value, 0, &jerr);
        if (!json_is_object(obj)) {
            json_decref(obj);
            snprintf(err, size,
                     "--%s: expected a JSON object, as in "
                     "'{\"key\": ...}'",
                     name);
            return -1;
        }
        set_json(cfg, s, obj);
        return 0;
    }
    }
    return 1;
}

/* Parses "HH:MM" (00:00 to 24:00) into minutes; -1 when invalid. */
static int parse_clock(const char *text)
{
    int hours, minutes;
    char tail;
    if (!text || strlen(text) != 5 ||
        sscanf(text, "%2d:%2d%c", &hours, &minutes, &tail) != 2)
        return -1;
    if (hours < 0 || hours > 24 || minutes < 0 || minutes > 59 ||
        (hours == 24 && minutes != 0))
        return -1;
    return hours * 60 + minutes;
}

static int validate_office_hours(const json_t *hours, char *err, size_t size)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu",
                                       "fri", "sat", "sun"};
    const char *day;
    json_t *span;
    json_object_foreach((json_t *)hours, day, span)
    {
        int known = 0;
        for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
            known |= strcmp(day, days[i]) == 0;
        if (!known) {
            snprintf(err, size,
                     "office_hours: unknown day \"%s\"; expected mon, tue, "
                     "wed, thu, fri, sat or sun",
                     day);
            return -1;
        }
        int open = -1, close = -1;
        if (json_is_array(span) && json_array_size(span) == 2) {
            open = parse_clock(json_string_value(json_array_get(span, 0)));
            close = parse_clock(json_string_value(json_array_get(span, 1)));
        }
        if (open < 0 || close < 0) {
            snprintf(err, size,
                     "office_hours.%s: expected [\"HH:MM\", \"HH:MM\"] "
                     "between 00:00 and 24:00, as in [\"09:00\", "
                     "\"17:00\"]",
                     day);
            return -1;
        }
        if (open >= close) {
            snprintf(err, size,
                     "office_hours.%s: opening time is not before closing "
                     "time; leave the day out to close it",
                     day);
            return -1;
        }
    }
    return 0;
}

static int is_http_url(const char *text)
{
    return text && (strncmp(text, "http://", 7) == 0 ||
                    strncmp(text, "https://", 8) == 0);
}

/* Checks that `value` of setting `key` is one of `choices` (NULL-ended);
 * the first two are named in the error. */
static int check_choice(const char *key, const char *value,
                        const char *const *choices, char *err, size_t size)
{
    for (size_t i = 0; choices[i]; i++)
        if (strcmp(value, choices[i]) == 0)
            return 0;
    char flag[128];
    key_to_flag(key, flag, sizeof flag);
    snprintf(err, size, "%s (--%s) is \"%s\"; expected \"%s\" or \"%s\"", key,
             flag, value, choices[0], choices[1]);
    return -1;
}

/* Checks the listen setting: an IPv4 or IPv6 address, or the name of a
 * network interface of this machine. libwebsockets would otherwise start
 * without listening anywhere; it takes no host names such as localhost. */
static int check_listen(const char *listen, char *err, size_t size)
{
    unsigned char address[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, listen, address) == 1 ||
        inet_pton(AF_INET6, listen, address) == 1 ||
        (listen[0] && if_nametoindex(listen) != 0))
        return 0;
    if (strcmp(listen, "localhost") == 0)
        snprintf(err, size,
                 "listen (--listen) is \"localhost\", a host name; give "
                 "its address, 127.0.0.1");
    else if (strchr(listen, ':') && strchr(listen, '.'))
        snprintf(err, size,
                 "listen (--listen) is \"%s\"; give the address alone, "
                 "such as 127.0.0.1, and the port with --port",
                 listen);
    else
        snprintf(err, size,
                 "listen (--listen) is \"%s\", which is neither an IP "
                 "address nor a network interface here; expected an "
                 "address such as 127.0.0.1 or 0.0.0.0",
                 listen);
    return -1;
}

int cfg_validate(const cfg_t *cfg, char *err, size_t size)
{
    static const char *const synchronous[] = {"full", "normal", NULL};
    static const char *const loops[] = {"epoll", "poll", "libev", NULL};
    if (check_listen(cfg->listen, err, size) ||
        validate_office_hours(cfg->office_hours, err, size) ||
        check_choice("db_synchronous", cfg->db_synchronous, synchronous, err,
                     size) ||
        check_choice("event_loop", cfg->event_loop, loops, err, size))
        return -1;

    /* A misspelt zone would silently mean UTC, so require its file where
     * the system has a zone database. */
    char path[512];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", cfg->timezone);
    if (!cfg->timezone[0] || strstr(cfg->timezone, "..") ||
        (access("/usr/share/zoneinfo", R_OK) == 0 && access(path, R_OK) != 0)) {
        snprintf(err, size,
                 "timezone \"%s\" is not a known time zone; expected a "
                 "name such as Europe/Brussels",
                 cfg->timezone);
        return -1;
    }

    size_t i;
    json_t *origin;
    json_array_foreach(cfg->allowed_origins, i, origin)
    {
        if (!is_http_url(json_string_value(origin))) {
            snprintf(err, size,
                     "allowed_origins[%zu] \"%s\" is not an origin; expected "
                     "a form such as https://www.example.be",
                     i, json_string_value(origin));
            return -1;
        }
    }

    const char *partner;
    json_t *target;
    json_object_foreach(cfg->partners, partner, target)
    {
        const char *url = json_string_value(json_object_get(target, "url"));
        if (!json_is_object(target) || !is_http_url(url)) {
            snprintf(err, size,
                     "partners.%s: expected {\"url\": \"https://...\"} with "
                     "an http or https webhook address",
                     partner);
            return -1;
        }
    }
    return 0;
}

void cfg_print_help(FILE *out)
{
    cfg_t defaults;
    cfg_defaults(&defaults);
    fprintf(out, "Settings (flag, or the same key with '_' in a --config "
                 "JSON file):\n");
    fprintf(out, "  --config FILE\n      JSON file of settings, applied "
                 "before the other flags\n");
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting_t *s = &settings[i];
        char flag[64];
        snprintf(flag, sizeof flag, "%s", s->key);
        for (char *c = flag; *c; c++)
            if (*c == '_')
                *c = '-';
        char shown[160] = "";
        void *slot = field_of(&defaults, s);
        if (s->type == SET_STRING)
            snprintf(shown, sizeof shown, "%s", *(char **)slot);
        else if (s->type == SET_INT)
            snprintf(shown, sizeof shown, "%d", *(int *)slot);
        else {
            char *dump = json_dumps(*(json_t **)slot, JSON_COMPACT);
            snprintf(shown, sizeof shown, "%s", dump ? dump : "");
            free(dump);
        }
        fprintf(out, "  --%s VALUE\n      %s (default: %s)\n", flag, s->help,
                shown);
    }
    cfg_free(&defaults);
}

static void print_usage(const char *command, const char *usage,
                        const cli_flag_t *flags, size_t flag_count)
{
    printf("%s\n", usage);
    if (flag_count)
        printf("\nOptions of 'stemdesk %s':\n", command);
    for (size_t i = 0; i < flag_count; i++) {
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", flags[i].name,
                 flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
        printf("  %s\n      %s\n", left, flags[i].help);
    }
    printf("\n");
    cfg_print_help(stdout);
}

/* Returns the Levenshtein distance of two short names, capped at 9. */
static int name_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int row[64];
    if (la >= 64 || lb >= 64)
        return 9;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diagonal = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int above = row[j];
            int best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb] < 9 ? row[lb] : 9;
}

int cli_nearest_option(const char *name, const cli_flag_t *flags,
                       size_t flag_count, char *nearest, size_t size)
{
    char candidate[128];
    int best = 3;
    if (size)
        nearest[0] = '\0';
    for (size_t i = 0; i < flag_count + SETTING_COUNT + 1; i++) {
        if (i < flag_count)
            snprintf(candidate, sizeof candidate, "%s", flags[i].name);
        else if (i < flag_count + SETTING_COUNT)
            key_to_flag(settings[i - flag_count].key, candidate,
                        sizeof candidate);
        else
            snprintf(candidate, sizeof candidate, "config");
        int d = name_distance(name, candidate);
        if (d < best) {
            best = d;
            snprintf(nearest, size, "%s", candidate);
        }
    }
    return best < 3;
}

/* Reports an unknown --name, with the nearest known option if any. */
static void unknown_option(const char *command, const char *name,
                           const cli_flag_t *flags, size_t flag_count)
{
    char nearest[128];
    if (cli_nearest_option(name, flags, flag_count, nearest, sizeof nearest))
        fprintf(stderr,
                "stemdesk %s: unknown option --%s; did you mean --%s? Run "
                "'stemdesk %s --help' for the options\n",
                command, name, nearest, command);
    else
        fprintf(stderr,
                "stemdesk %s: unknown option --%s; run 'stemdesk %s --help' "
                "for the options\n",
                command, name, command);
}

int cli_parse(cfg_t *cfg, const char *command, const char *usage, int argc,
              char **argv, const cli_flag_t *flags, size_t flag_count,
              const char **positional, size_t max_positional,
              size_t *positional_count)
{
    char err[512];
    *positional_count = 0;

    /* The config file comes first, so that flags override it. */
    for (int i = 0; i < argc; i++) {
        const char *path = NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(command, usage, flags, flag_count);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "stemdesk %s: --config needs a file name\n",
                        command);
                return 2;
            }
            path = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            path = argv[i] + 9;
        }
        if (path && cfg_load_file(cfg, path, err, sizeof err)) {
            fprintf(stderr, "stemdesk %s: %s\n", command, err);
            return 2;
        }
    }

    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
            if (*positional_count == max_positional) {
                fprintf(stderr,
                        "stemdesk %s: unexpected argument \"%s\"; run "
                        "'stemdesk %s --help'\n",
                        command, argv[i], command);
                return 2;
            }
            positional[(*positional_count)++] = argv[i];
            continue;
        }
        char name[128];
        snprintf(name, sizeof name, "%s", argv[i] + 2);
        char *eq = strchr(name, '=');
        if (eq)
            *eq = '\0';
        if (strcmp(name, "config") == 0) {
            if (!eq)
                i++;
            continue;
        }

        const cli_flag_t *flag = NULL;
        for (size_t f = 0; f < flag_count; f++)
            if (strcmp(flags[f].name, name) == 0)
                flag = &flags[f];
        if (flag && !flag->arg) {
            if (eq) {
                fprintf(stderr, "stemdesk %s: --%s takes no value\n", command,
                        name);
                return 2;
            }
            *flag->value = "1";
            continue;
        }

        if (!flag && !cfg_is_setting(name)) {
            unknown_option(command, name, flags, flag_count);
            return 2;
        }
        const char *value = NULL;
        if (eq)
            value = strchr(argv[i], '=') + 1;
        else if (i + 1 < argc)
            value = argv[++i];
        if (!value) {
            fprintf(stderr, "stemdesk %s: --%s needs a value\n", command, name);
            return 2;
        }
        if (flag) {
            *flag->value = value;
            continue;
        }
        int rc = cfg_set(cfg, name, value, err, sizeof err);
        if (rc == 1) {
            unknown_option(command, name, flags, flag_count);
            return 2;
        }
        if (rc < 0) {
            fprintf(stderr, "stemdesk %s: %s\n", command, err);
            return 2;
        }
    }

    log_level_t level;
    if (log_level_parse(cfg->log_level, &level)) {
        fprintf(stderr,
                "stemdesk %s: log level \"%s\" is invalid; expected debug, "
                "info, warn, error or off\n",
                command, cfg->log_level);
        return 2;
    }
    log_set_level(level);

    if (cfg_validate(cfg, err, sizeof err)) {
        fprintf(stderr, "stemdesk %s: %s\n", command, err);
        return 2;
    }
    return 0;
}
