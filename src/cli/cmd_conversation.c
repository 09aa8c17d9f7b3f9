#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/config.h"
#include "store/store.h"

static const char usage[] =
    "usage: stemdesk conversation export ID\n"
    "       stemdesk conversation erase ID\n"
    "       stemdesk conversation purge\n\n"
    "export prints one conversation (messages, state, effects) as JSON.\n"
    "erase deletes one conversation and everything tied to it.\n"
    "purge deletes the conversations older than retention_days now.";

static int export_conversation(store_t *store, const char *id)
{
    json_t *export = NULL;
    int rc = store_export(store, id, &export);
    if (rc == 1) {
        fprintf(stderr, "stemdesk conversation: no conversation with id %s\n",
                id);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "stemdesk conversation: export of %s failed\n", id);
        return 1;
    }
    json_dumpf(export, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(export);
    return 0;
}

static int erase_conversation(store_t *store, const char *id)
{
    int rc = store_erase(store, id);
    if (rc == 1) {
        fprintf(stderr, "stemdesk conversation: no conversation with id %s\n",
                id);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "stemdesk conversation: erasing %s failed\n", id);
        return 1;
    }
    printf("erased conversation %s\n", id);
    return 0;
}

static int purge_conversations(store_t *store, int retention_days)
{
    long long before =
        (long long)time(NULL) - (long long)retention_days * 86400;
    long long count = 0;
    if (store_purge(store, before, &count)) {
        fprintf(stderr, "stemdesk conversation: purge failed\n");
        return 1;
    }
    printf("purged %lld conversation%s older than %d days\n", count,
           count == 1 ? "" : "s", retention_days);
    return 0;
}

int cmd_conversation(int argc, char **argv)
{
    cfg_t cfg;
    cfg_defaults(&cfg);
    const char *positional[2];
    size_t count;
    int rc = cli_parse(&cfg, "conversation", usage, argc, argv, NULL, 0,
                       positional, 2, &count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }

    const char *action = count > 0 ? positional[0] : "";
    int needs_id =
        strcmp(action, "export") == 0 || strcmp(action, "erase") == 0;
    if (!(needs_id && count == 2) &&
        !(strcmp(action, "purge") == 0 && count == 1)) {
        fprintf(stderr, "%s\n", usage);
        cfg_free(&cfg);
        return 2;
    }

    char err[512] = "";
    store_t *store = store_open(cfg.db_path, err, sizeof err);
    if (!store) {
        fprintf(stderr, "stemdesk conversation: %s\n", err);
        cfg_free(&cfg);
        return 1;
    }
    if (strcmp(action, "export") == 0)
        rc = export_conversation(store, positional[1]);
    else if (strcmp(action, "erase") == 0)
        rc = erase_conversation(store, positional[1]);
    else
        rc = purge_conversations(store, cfg.retention_days);
    store_close(store);
    cfg_free(&cfg);
    return rc;
}
