#include <stdlib.h>

#include "engine/engine.h"

eng_bundle_t *eng_bundle_load(const char *intents_dir, const char *lang_dir,
                              const char *kb_dir, const char *dialogs_dir,
                              content_errors_t *errs)
{
    eng_bundle_t *bundle = calloc(1, sizeof *bundle);
    if (!bundle)
        return NULL;

    /* Load every part even after an error, so that one run of `check`
     * reports the mistakes of all files at once. Dialogues refer to
     * intents and entries, so they are checked only when both loaded. */
    size_t before = errs->count;
    bundle->nlu = nlu_load(intents_dir, lang_dir, errs);
    bundle->kb = kb_load(kb_dir, lang_dir, errs);
    if (bundle->nlu && bundle->kb)
        bundle->script = dlg_load(dialogs_dir, bundle->nlu, bundle->kb, errs);

    if (!bundle->nlu || !bundle->kb || !bundle->script ||
        errs->count > before) {
        eng_bundle_free(bundle);
        return NULL;
    }
    bundle->content.nlu = bundle->nlu;
    bundle->content.kb = bundle->kb;
    bundle->content.script = bundle->script;
    return bundle;
}

void eng_bundle_free(eng_bundle_t *bundle)
{
    if (!bundle)
        return;
    dlg_free(bundle->script);
    kb_free(bundle->kb);
    nlu_free(bundle->nlu);
    free(bundle);
}
