/* The dialogue engine: a pure step function from (conversation state,
 * event) to (new state, outgoing messages, effects). It never does I/O and
 * never includes a libwebsockets header; the server, the `chat` command and
 * the conversation tests all drive eng_step().
 *
 * State, messages and effects are jansson values so that they serialise
 * as they are stored and sent. */
#ifndef STEMDESK_ENGINE_H
#define STEMDESK_ENGINE_H

#include <jansson.h>

#include "common/content.h"
#include "knowledge/kb.h"
#include "nlu/nlu.h"

typedef struct dlg_script dlg_script_t;

/* Loads and checks every JSON file in dialogs_dir (scripts and policy.json)
 * against the intents of `nlu` and the entries of `kb`. Returns NULL and fills
 * `errs` (file, line, column, hint) on any error. */
dlg_script_t *dlg_load(const char *dialogs_dir, const nlu_model_t *nlu,
                       const kb_t *kb, content_errors_t *errs);
void dlg_free(dlg_script_t *script);

/* Everything the engine reads besides the state and the event. Content is
 * immutable while in use; a reload builds a new set. The kb handle is
 * searched, which needs a mutable SQLite connection. */
typedef struct {
    const nlu_model_t *nlu;
    kb_t *kb;
    const dlg_script_t *script;
} eng_content_t;

typedef enum {
    ENG_EV_START,            /* a new conversation: send the welcome */
    ENG_EV_VISITOR_TEXT,     /* text or a quick-reply value from the visitor */
    ENG_EV_ADVISOR_JOINED,   /* an advisor took over; the bot goes silent */
    ENG_EV_ADVISOR_TEXT,     /* an advisor wrote to the visitor */
    ENG_EV_ADVISOR_RELEASED, /* the advisor handed back to the bot */
    ENG_EV_CLOSED,           /* an advisor closed with an outcome */
    ENG_EV_ADVISOR_TIMEOUT   /* no advisor answered in time */
} eng_event_kind_t;

typedef struct {
    eng_event_kind_t kind;
    const char *text;         /* visitor or advisor text; may be NULL */
    const char *advisor_name; /* for advisor events */
    const char *outcome;      /* for ENG_EV_CLOSED */
    int advisors_online;      /* advisors online and available right now */
    int office_open;          /* 1 within office hours */
    /* The office hours setting, {"mon": ["09:00", "17:00"], ...}; a missing
     * day is closed. Borrowed; NULL reads as no open day. The
     * {office_hours} placeholder shows them. */
    const json_t *office_hours;
    long long now; /* Unix time in seconds */
} eng_event_t;

typedef struct {
    /* The new conversation state (owned). */
    json_t *state;
    /* Messages to store and send, in order (owned array). Each object has
     * "from" ("bot", "system", "advisor"), "text", and optionally
     * "quick_replies" [{label, value}] and "cards"
     * [{title, url, summary, why: [..]}], exactly as on the wire. */
    json_t *messages;
    /* Side effects for the caller to perform (owned array), each an
     * object with a "type":
     *   {"type":"status","state":"bot|waiting|advisor|closed"}
     *   {"type":"escalate","reason":CODE,"detail":TEXT,"slots":{..},
     *    "live":BOOL} (live: an advisor can take over now)
     *   {"type":"callback","name":..,"email":..,"phone":..,"consent":true}
     *   {"type":"partner","partner":KB_ID,"reason":..,"slots":{..}}
     *   {"type":"unanswered","text":..} (a question the bot could not
     *    answer, for editors) */
    json_t *effects;
    /* Diagnostics for `stemdesk chat --debug` and logs: top intents with
     * scores, entities, confidence (owned object). */
    json_t *debug;
} eng_output_t;

/* Applies one event. `state` is the previous state or NULL for a new
 * conversation; it is not modified. Returns 0 and fills `out`, or -1 on
 * out-of-memory, in which case `out` is empty. The caller releases `out`
 * with eng_output_free(). */
int eng_step(const eng_content_t *content, const json_t *state,
             const eng_event_t *event, eng_output_t *out);
void eng_output_free(eng_output_t *out);

/* The conversation mode in a state: "bot", "waiting", "advisor" or
 * "closed" ("bot" for NULL). */
const char *eng_state_mode(const json_t *state);

/* All content loaded together: the unit that `stemdesk check` validates and
 * that a reload swaps in one step. */
typedef struct {
    nlu_model_t *nlu;
    kb_t *kb;
    dlg_script_t *script;
    eng_content_t content; /* views of the three above */
} eng_bundle_t;

/* Loads intents and language data, the knowledge base and the dialogues,
 * collecting every error of every file in `errs` before it gives up.
 * Returns NULL on any error. Free with eng_bundle_free(). */
eng_bundle_t *eng_bundle_load(const char *intents_dir, const char *lang_dir,
                              const char *kb_dir, const char *dialogs_dir,
                              content_errors_t *errs);
void eng_bundle_free(eng_bundle_t *bundle);

#endif
