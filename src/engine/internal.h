/* Private parts of the dialogue engine shared by its source files: the
 * loaded script and the working context of one eng_step() call. */
#ifndef STEMDESK_ENGINE_INTERNAL_H
#define STEMDESK_ENGINE_INTERNAL_H

#include <jansson.h>

#include "engine/engine.h"

#define ENG_STATE_VERSION 1
#define ENG_MAX_TRANSITIONS 24 /* node entries per event, against loops */

/* A loaded, validated script. The JSON parts are the merged content of all
 * dialog files; eng_step() reads them directly because dlg_load() has
 * checked every type and reference. */
struct dlg_script {
    json_t *nodes;         /* node id -> node object */
    json_t *slots;         /* slot name -> slot object */
    json_t *texts;         /* text key -> string or array of variants */
    json_t *intent_labels; /* intent name -> Dutch label */
    json_t *routes;        /* array of {when, goto} */
    json_t *policy;        /* policy.json as loaded */
    double clarify_below;
    int escalate_after_unsure;
    int cards_min;
    int cards_max;
    const char *start_node;        /* welcome on ENG_EV_START */
    const char *orientation_node;  /* asks the next missing slot */
    const char *unsure_node;       /* escalation after unsure turns */
    const char *callback_node;     /* no advisor came: offer a callback */
    const char *no_consent_node;   /* contact asked without consent */
    const char *unknown_name_node; /* a name the kb lacks, or NULL */
};

/* The working set of one eng_step() call. */
typedef struct {
    const eng_content_t *content;
    const dlg_script_t *script;
    const eng_event_t *event;
    json_t *state;    /* working copy, becomes out->state */
    json_t *messages; /* becomes out->messages */
    json_t *effects;  /* becomes out->effects */
    json_t *debug;    /* becomes out->debug */

    /* Understanding of the visitor's text in this turn. */
    nlu_result_t nlu;
    const char *intent;    /* top intent, or "" */
    double score;          /* confidence of the turn */
    int filled_any;        /* an orientation slot received a value */
    json_t *changed;       /* names of slots whose earlier value changed */
    json_t *filled;        /* slot name -> true for slots set in this turn */
    char named[KB_ID_MAX]; /* kb entry named in the text, or "" */
    int steps;             /* node entries in this event */
    char asked[64];        /* node that waited when the visitor's text came */
    int resumed;           /* a digression returned to a waiting node */
    int retried;           /* the asked node was asked again in this turn */
    int unclear;           /* the text was not understood (unsure turn) */
    char field[32];        /* entry field asked for before "which one?" */
    int halt;              /* an action asked the visitor: stop entering */
    /* The other entry of a comparison ("verschil tussen X en Y"), or "". */
    char compared[KB_ID_MAX];
    /* 1 when the bot asked a clarifying question in the previous turn, 2
     * when it asked it once more; 0 otherwise. */
    int clarifying;
    /* Names of slots that the text mentions with the value they had. */
    json_t *same;
    /* The route step requested by a "route:" command: its order, or
     * ENG_ROUTE_NEXT; 0 requests the overview. */
    int route_step;
    /* The checklist items requested by a "checklist:" command, as
     * positions from 1 in the entry's list; 0 requests the overview. */
    int checklist_first;
    int checklist_last;
} eng_turn_t;

#define ENG_ROUTE_NEXT (-1)

/* Returns `s`, or "" for NULL. */
static inline const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* step.c */
void eng_enter(eng_turn_t *t, const char *node_id);
const char *eng_state_str(const json_t *state, const char *key);
void eng_say(eng_turn_t *t, const char *from, const char *text,
             json_t *quick_replies, json_t *cards);
void eng_say_key(eng_turn_t *t, const char *key);
void eng_effect_status(eng_turn_t *t, const char *mode);

/* actions.c */
/* Runs one action; returns the node to jump to (borrowed) or NULL. */
const char *eng_run_action(eng_turn_t *t, const json_t *action);
/* Evaluates a condition object; a NULL condition holds. */
int eng_condition(eng_turn_t *t, const json_t *when);
/* Writes `template_text` into out[size] with every "{keys[i]}" replaced
 * by values[i] (NULL reads as ""); other braces are copied. */
void eng_fill(char *out, size_t size, const char *template_text,
              const char *const *keys, const char *const *values, size_t count);
/* Expands {placeholders} in a Dutch template. The caller frees. */
char *eng_expand(eng_turn_t *t, const char *template_text);
/* The Dutch label of a slot's current value, or NULL. Borrowed or from
 * `buffer`. */
const char *eng_slot_label(eng_turn_t *t, const char *slot, char *buffer,
                           size_t size);
/* Picks one variant of a string-or-array prompt from the state's counter. */
const char *eng_pick_variant(eng_turn_t *t, const json_t *prompt);
/* A copy of the filled slots as {name: value} for effects. The caller
 * frees. */
json_t *eng_slots_summary(const json_t *state);
/* Writes an amount of hours per month as Dutch text ("2 uur per maand",
 * "ongeveer 1,5 uur per maand", "ongeveer 4 uur per jaar") into `buffer`
 * with the script's time_value texts. `estimate` always says "ongeveer". */
const char *eng_time_label(eng_turn_t *t, double per_month, int estimate,
                           char *buffer, size_t size);

/* hours.c */
/* Writes the event's office hours as Dutch text ("van maandag tot en met
 * vrijdag van 9.00 tot 17.00 uur") into `buffer` with the script's
 * office_* texts; office_hours_none when no day is open. Returns
 * `buffer`. */
const char *eng_office_hours(eng_turn_t *t, char *buffer, size_t size);

/* step.c */
/* Returns where the folded text contains `phrase` (folded) as whole words
 * ("Bedrijfsbezoek" contains "bedrijfsbezoek", "bezoeken" does not
 * contain "bezoek"), with its folded length in *len, or NULL. */
const char *eng_find_words(const char *folded, const char *phrase, size_t *len);
/* Returns 1 when the folded text contains `phrase` as whole words. */
int eng_has_words(const char *folded, const char *phrase);

/* Parses the argument of a "route:" command ("3", "next") or of a
 * "checklist:" command ("all", "1-7"). Returns 0, or -1 when it is
 * invalid. */
int eng_parse_route_step(const char *argument, int *step);
int eng_parse_checklist_part(const char *argument, int *first, int *last);

#endif
