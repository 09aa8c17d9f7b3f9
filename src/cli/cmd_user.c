/* stemdesk user: add, change, list and remove console accounts, and read
 * the audit log of advisor actions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "store/accounts.h"

static const char usage[] =
    "usage: stemdesk user add NAME --role advisor|editor|admin\n"
    "                         [--display-name TEXT] [OPTIONS]\n"
    "       stemdesk user set NAME --display-name TEXT [OPTIONS]\n"
    "       stemdesk user list [OPTIONS]\n"
    "       stemdesk user remove NAME [OPTIONS]\n"
    "       stemdesk user audit [--limit N] [OPTIONS]\n\n"
    "Manages the accounts that log in to the advisor console. 'add' reads "
    "the\npassword from the terminal without echo (twice), or one line from "
    "standard\ninput when that is not a terminal. Passwords are stored as "
    "Argon2id hashes.\nThe display name (such as \"Anja Peeters\") is what "
    "visitors and advisors\nsee; an account without one shows its login "
    "NAME. 'set' changes it, and an\nopen console shows the new name once "
    "it reconnects. 'list' prints the\nname, role and display name ('-' "
    "when none is set). 'audit' prints the\nlatest advisor actions (ids and "
    "action, no message text).";

/* Reads one line into `buf` without its newline; -1 at end of input. */
static int read_line(FILE *in, char *buf, size_t size)
{
    size_t len;

    if (!fgets(buf, (int)size, in))
        return -1;
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len > 0 && buf[len - 1] == '\r')
        buf[--len] = '\0';
    return 0;
}

/* Prompts on the terminal with echo off. Returns 0 or -1. */
static int read_hidden(const char *prompt, char *buf, size_t size)
{
    struct termios saved;
    struct termios quiet;
    int rc;

    fputs(prompt, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return -1;
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    rc = read_line(stdin, buf, size);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputc('\n', stderr);
    return rc;
}

/* Reads the new password into `buf`. Returns 0, or 1 with a message. */
static int read_password(char *buf, size_t size)
{
    if (isatty(STDIN_FILENO)) {
        char again[STORE_PASSWORD_MAX + 2];
        int same;

        if (read_hidden("Password: ", buf, size) != 0 ||
            read_hidden("Password again: ", again, sizeof again) != 0) {
            fprintf(stderr, "stemdesk user: no password entered\n");
            return 1;
        }
        same = strcmp(buf, again) == 0;
        sodium_memzero(again, sizeof again);
        if (!same) {
            fprintf(stderr, "stemdesk user: the two passwords differ; run "
                            "the command again\n");
            return 1;
        }
        return 0;
    }
    if (read_line(stdin, buf, size) != 0) {
        fprintf(stderr, "stemdesk user: expected the password as one line "
                        "on standard input\n");
        return 1;
    }
    return 0;
}

static int add(store_t *store, const char *name, const char *role_name,
               const char *display_name)
{
    char password[STORE_PASSWORD_MAX + 2];
    char err[256] = "";
    store_role_t role;
    int rc;

    if (!role_name) {
        fprintf(stderr, "stemdesk user: missing --role; use advisor, editor "
                        "or admin\n");
        return 2;
    }
    if (store_role_parse(role_name, &role) != 0) {
        fprintf(stderr,
                "stemdesk user: invalid --role \"%s\"; use advisor, editor "
                "or admin\n",
                role_name);
        return 2;
    }
    if (!store_account_name_valid(name)) {
        fprintf(stderr,
                "stemdesk user: invalid account name \"%s\"; use 1 to %d "
                "characters of a-z, 0-9, '.', '_' and '-'\n",
                name, STORE_ACCOUNT_NAME_MAX);
        return 2;
    }
    if (display_name &&
        store_display_name_check(display_name, err, sizeof err) != 0) {
        fprintf(stderr, "stemdesk user: %s\n", err);
        return 2;
    }
    if (read_password(password, sizeof password) != 0)
        return 1;
    rc = store_account_add(store, name, password, display_name, role,
                           (long long)time(NULL), err, sizeof err);
    sodium_memzero(password, sizeof password);
    if (rc == 1) {
        fprintf(stderr,
                "stemdesk user: an account named \"%s\" exists; remove it "
                "first or choose another name\n",
                name);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "stemdesk user: %s\n", err);
        return 1;
    }
    printf("added %s (%s)\n", name, role_name);
    return 0;
}

static int set_display_name(store_t *store, const char *name,
                            const char *display_name)
{
    char err[256] = "";
    int rc;

    if (!display_name) {
        fprintf(stderr, "stemdesk user: missing --display-name; give the "
                        "name that visitors see, such as \"Anja Peeters\"\n");
        return 2;
    }
    if (store_display_name_check(display_name, err, sizeof err) != 0) {
        fprintf(stderr, "stemdesk user: %s\n", err);
        return 2;
    }
    rc = store_account_set_display_name(store, name, display_name,
                                        (long long)time(NULL), err, sizeof err);
    if (rc == 1) {
        fprintf(stderr,
                "stemdesk user: no account named \"%s\"; 'stemdesk user "
                "list' shows the accounts\n",
                name);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "stemdesk user: %s\n", err);
        return 1;
    }
    printf("display name of %s set to \"%s\"\n", name, display_name);
    return 0;
}

static int list(store_t *store)
{
    json_t *accounts = NULL;
    size_t i;
    json_t *row;

    if (store_account_list(store, &accounts) != 0) {
        fprintf(stderr, "stemdesk user: reading the accounts failed\n");
        return 1;
    }
    json_array_foreach(accounts, i, row)
    {
        const char *display =
            json_string_value(json_object_get(row, "display_name"));

        printf("%-24s %-8s %s\n",
               json_string_value(json_object_get(row, "name")),
               json_string_value(json_object_get(row, "role")),
               display ? display : "-");
    }
    if (json_array_size(accounts) == 0)
        printf("no accounts; add one with 'stemdesk user add NAME --role "
               "admin'\n");
    json_decref(accounts);
    return 0;
}

static int remove_account(store_t *store, const char *name)
{
    int rc = store_account_remove(store, name, (long long)time(NULL));

    if (rc == 1) {
        fprintf(stderr, "stemdesk user: no account named \"%s\"\n", name);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "stemdesk user: removing \"%s\" failed\n", name);
        return 1;
    }
    printf("removed %s\n", name);
    return 0;
}

static int audit(store_t *store, const char *limit_text)
{
    int limit = limit_text ? atoi(limit_text) : 50;
    json_t *entries = NULL;
    size_t i;
    json_t *row;

    if (limit < 1 || limit > 100000) {
        fprintf(stderr,
                "stemdesk user: invalid --limit \"%s\"; use 1 to 100000\n",
                limit_text);
        return 2;
    }
    if (store_audit_list(store, limit, &entries) != 0) {
        fprintf(stderr, "stemdesk user: reading the audit log failed\n");
        return 1;
    }
    json_array_foreach(entries, i, row)
    {
        time_t at = (time_t)json_integer_value(json_object_get(row, "at"));
        const char *name = json_string_value(json_object_get(row, "name"));
        const char *conv =
            json_string_value(json_object_get(row, "conversation"));
        struct tm utc;
        char when[32];

        gmtime_r(&at, &utc);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
        char who[96];

        if (!name)
            snprintf(who, sizeof who, "(removed)");
        else if (json_is_true(json_object_get(row, "removed")))
            snprintf(who, sizeof who, "%s (removed)", name);
        else
            snprintf(who, sizeof who, "%s", name);
        printf("%s  %-16s %-14s %s\n", when, who,
               json_string_value(json_object_get(row, "action")),
               conv ? conv : "-");
    }
    json_decref(entries);
    return 0;
}

int cmd_user(int argc, char **argv)
{
    const char *role = NULL;
    const char *limit = NULL;
    const char *display_name = NULL;
    const cli_flag_t flags[] = {
        {"role", "ROLE", "advisor, editor or admin (for add)", &role},
        {"display-name", "TEXT",
         "name that visitors see, 1 to 60 characters (for add and set)",
         &display_name},
        {"limit", "N", "audit entries to print (default 50)", &limit},
    };
    const char *positional[2];
    size_t count = 0;
    char err[512] = "";
    store_t *store;
    cfg_t cfg;
    int rc;

    cfg_defaults(&cfg);
    rc = cli_parse(&cfg, "user", usage, argc, argv, flags,
                   sizeof flags / sizeof *flags, positional, 2, &count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }
    if (count == 0 ||
        ((strcmp(positional[0], "add") == 0 ||
          strcmp(positional[0], "set") == 0 ||
          strcmp(positional[0], "remove") == 0) &&
         count != 2) ||
        ((strcmp(positional[0], "list") == 0 ||
          strcmp(positional[0], "audit") == 0) &&
         count != 1)) {
        fprintf(stderr, "%s\n", usage);
        cfg_free(&cfg);
        return 2;
    }
    log_set_level(LOG_LEVEL_WARN);
    store = store_open(cfg.db_path, err, sizeof err);
    if (!store) {
        fprintf(stderr, "stemdesk user: %s\n", err);
        cfg_free(&cfg);
        return 1;
    }

    if (strcmp(positional[0], "add") == 0) {
        rc = add(store, positional[1], role, display_name);
    } else if (strcmp(positional[0], "set") == 0) {
        rc = set_display_name(store, positional[1], display_name);
    } else if (strcmp(positional[0], "remove") == 0) {
        rc = remove_account(store, positional[1]);
    } else if (strcmp(positional[0], "list") == 0) {
        rc = list(store);
    } else if (strcmp(positional[0], "audit") == 0) {
        rc = audit(store, limit);
    } else {
        fprintf(stderr,
                "stemdesk user: unknown action \"%s\"; use add, set, list, "
                "remove or audit\n",
                positional[0]);
        rc = 2;
    }
    store_close(store);
    cfg_free(&cfg);
    return rc;
}
