#include <stdio.h>

#include "cli/cli.h"
#include "common/config.h"
#include "engine/engine.h"

int cmd_check(int argc, char **argv)
{
    cfg_t cfg;
    cfg_defaults(&cfg);
    const char *positional[1];
    size_t positional_count;
    int rc = cli_parse(&cfg, "check",
                       "usage: stemdesk check [OPTIONS]\n\n"
                       "Validates every file in the dialogs, intents, kb and "
                       "lang folders and\nreports each mistake with file, "
                       "line, column and what to write instead.",
                       argc, argv, NULL, 0, positional, 0, &positional_count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }

    content_errors_t errs = {0};
    eng_bundle_t *bundle = eng_bundle_load(cfg.intents_dir, cfg.lang_dir,
                                           cfg.kb_dir, cfg.dialogs_dir, &errs);
    if (!bundle) {
        content_errors_print(&errs, stderr);
        fprintf(stderr, "check failed: %zu error%s\n", errs.count,
                errs.count == 1 ? "" : "s");
        content_errors_free(&errs);
        cfg_free(&cfg);
        return 1;
    }
    printf("content is valid: %zu intents, %zu knowledge-base entries\n",
           nlu_intent_count(bundle->nlu), kb_entry_count(bundle->kb));
    eng_bundle_free(bundle);
    content_errors_free(&errs);
    cfg_free(&cfg);
    return 0;
}
