#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "common/config.h"
#include "nlu/eval.h"
#include "nlu/nlu.h"

static const char usage[] =
    "usage: stemdesk nlu-eval FILE [OPTIONS]\n\n"
    "Scores the intents and entities of the model built from --intents-dir\n"
    "and --lang-dir on a labelled file. FILE has one utterance a line:\n"
    "text, a tab, the expected intent, and optionally a tab and the\n"
    "expected entities as kind=value separated by ';'. Prints accuracy,\n"
    "precision, recall and F1 per intent, the most confused pairs, the\n"
    "expected calibration error, out-of-scope recall and entity accuracy.";

int cmd_nlu_eval(int argc, char **argv)
{
    const char *json_flag = NULL, *min_accuracy = NULL;
    const cli_flag_t flags[] = {
        {"json", NULL, "print the report as one JSON object", &json_flag},
        {"min-accuracy", "X",
         "exit with status 1 when the accuracy (0 to 1) is below X",
         &min_accuracy},
    };
    cfg_t cfg;
    cfg_defaults(&cfg);
    const char *positional[1];
    size_t positional_count;
    int rc = cli_parse(&cfg, "nlu-eval", usage, argc, argv, flags,
                       sizeof flags / sizeof *flags, positional, 1,
                       &positional_count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }
    double minimum = 0;
    if (min_accuracy) {
        char *end;
        minimum = strtod(min_accuracy, &end);
        if (end == min_accuracy || *end || minimum < 0 || minimum > 1) {
            fprintf(stderr,
                    "stemdesk nlu-eval: invalid --min-accuracy \"%s\"; "
                    "write a number from 0 to 1, e.g. 0.85\n",
                    min_accuracy);
            cfg_free(&cfg);
            return 2;
        }
    }
    if (positional_count != 1) {
        fprintf(stderr, "stemdesk nlu-eval: missing FILE; run 'stemdesk "
                        "nlu-eval --help'\n");
        cfg_free(&cfg);
        return 2;
    }

    content_errors_t errs = {0};
    nlu_model_t *model = nlu_load(cfg.intents_dir, cfg.lang_dir, &errs);
    if (!model) {
        content_errors_print(&errs, stderr);
        content_errors_free(&errs);
        cfg_free(&cfg);
        return 1;
    }

    nlu_eval_t eval;
    char err[512];
    rc = nlu_eval_run(model, positional[0], &eval, err, sizeof err);
    if (rc) {
        fprintf(stderr, "stemdesk nlu-eval: %s\n", err);
    } else if (json_flag) {
        json_t *report = nlu_eval_json(&eval, model);
        json_dumpf(report, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(4));
        fputc('\n', stdout);
        json_decref(report);
    } else {
        nlu_eval_print(&eval, model, stdout);
    }
    if (rc == 0 && min_accuracy && nlu_eval_accuracy(&eval) < minimum) {
        fprintf(stderr,
                "stemdesk nlu-eval: accuracy %.3f is below --min-accuracy "
                "%.3f\n",
                nlu_eval_accuracy(&eval), minimum);
        rc = 1;
    }
    nlu_eval_free(&eval);
    nlu_free(model);
    content_errors_free(&errs);
    cfg_free(&cfg);
    return rc ? 1 : 0;
}
