/* Scores the intent model on a labelled TSV file, like `stemdesk nlu-eval`
 * but linking only sd_nlu, so the accuracy check runs even when other
 * modules do not build.
 *
 * With MAX_ECE it also fails when the expected calibration error is
 * above it.
 *
 * usage: eval_intents INTENTS_DIR LANG_DIR TEST_TSV MIN_ACCURACY [MAX_ECE] */
#include <stdio.h>
#include <stdlib.h>

#include "nlu/eval.h"
#include "nlu/nlu.h"

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: eval_intents INTENTS_DIR LANG_DIR TEST_TSV "
                        "MIN_ACCURACY [MAX_ECE]\n");
        return 2;
    }
    content_errors_t errs = {0};
    nlu_model_t *model = nlu_load(argv[1], argv[2], &errs);
    if (!model) {
        content_errors_print(&errs, stderr);
        content_errors_free(&errs);
        return 1;
    }

    nlu_eval_t eval;
    char err[512];
    int rc = nlu_eval_run(model, argv[3], &eval, err, sizeof err);
    if (rc) {
        fprintf(stderr, "eval_intents: %s\n", err);
    } else {
        nlu_eval_print(&eval, model, stdout);
        double minimum = strtod(argv[4], NULL);
        double accuracy = nlu_eval_accuracy(&eval);
        if (accuracy < minimum) {
            fprintf(stderr, "accuracy %.3f is below the minimum %.3f\n",
                    accuracy, minimum);
            rc = 1;
        }
        double ece = nlu_eval_ece(&eval);
        if (argc == 6 && ece > strtod(argv[5], NULL)) {
            fprintf(stderr,
                    "expected calibration error %.3f is above the maximum "
                    "%.3f\n",
                    ece, strtod(argv[5], NULL));
            rc = 1;
        }
    }
    nlu_eval_free(&eval);
    nlu_free(model);
    content_errors_free(&errs);
    return rc ? 1 : 0;
}
