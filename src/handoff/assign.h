/* Rules of the advisor queue as pure functions: who is offered a waiting
 * conversation, who wins a claim, when a conversation returns to the queue
 * and whether the office is open. They read no clock and no database; the
 * caller passes the time and the rows. */
#ifndef STEMDESK_HANDOFF_ASSIGN_H
#define STEMDESK_HANDOFF_ASSIGN_H

#include <stddef.h>

#include <jansson.h>

typedef enum {
    HANDOFF_OFFLINE,
    HANDOFF_AWAY,
    HANDOFF_ONLINE
} handoff_presence_t;

typedef struct {
    long long id;
    handoff_presence_t presence;
} handoff_advisor_t;

typedef enum { HANDOFF_WAITING, HANDOFF_TAKEN, HANDOFF_CLOSED } handoff_state_t;

/* One escalated conversation as the rules see it. Times are Unix seconds,
 * 0 for none. */
typedef struct {
    handoff_state_t state;
    long long advisor_id; /* holder while taken */
    long long queued_at;
    long long taken_at;
    long long answered_at; /* first reply of the holder */
    int timeout_sent;      /* the visitor was told nobody answered */
} handoff_item_t;

typedef enum {
    HANDOFF_CLAIM_OK,        /* the advisor now holds it */
    HANDOFF_CLAIM_TAKEN,     /* another advisor was first */
    HANDOFF_CLAIM_CLOSED,    /* it was closed or handed back */
    HANDOFF_CLAIM_NOT_ONLINE /* only an online advisor may take */
} handoff_claim_t;

/* What the caller should do with a conversation at a given time. */
typedef enum {
    HANDOFF_KEEP,            /* nothing */
    HANDOFF_REQUEUE_OFFLINE, /* its advisor went offline: back to waiting */
    HANDOFF_REQUEUE_SILENT,  /* its advisor did not answer in time */
    HANDOFF_NOTIFY_TIMEOUT   /* nobody took it in time: tell the visitor */
} handoff_check_t;

/* Parses "online", "away" or "offline". Returns 0, or -1 otherwise. */
int handoff_presence_parse(const char *name, handoff_presence_t *out);
const char *handoff_presence_name(handoff_presence_t presence);

/* Parses the state names used by the store ("waiting", "taken",
 * "closed"). Returns 0, or -1 otherwise. */
int handoff_state_parse(const char *name, handoff_state_t *out);

/* Returns the number of advisors that are online. */
size_t handoff_online_count(const handoff_advisor_t *advisors, size_t count);

/* Writes the ids of the advisors to whom a waiting conversation is offered
 * (those online) to `ids`, which holds `count` entries; returns how many. A
 * conversation that is not waiting is offered to nobody. */
size_t handoff_offer_targets(const handoff_item_t *item,
                             const handoff_advisor_t *advisors, size_t count,
                             long long *ids);

/* Applies a claim: the first online advisor to claim a waiting
 * conversation wins. Updates `item` only on HANDOFF_CLAIM_OK. */
handoff_claim_t handoff_claim(handoff_item_t *item,
                              const handoff_advisor_t *advisor, long long now);

/* Decides whether a conversation returns to the queue or the visitor is
 * told that nobody answered. `holder` is the presence of the advisor that
 * holds it (ignored unless taken). Both waits are `answer_seconds`. */
handoff_check_t handoff_check(const handoff_item_t *item,
                              handoff_presence_t holder, int answer_seconds,
                              long long now);

/* Returns the presence of an advisor as the queue rules should see it.
 * `live` is the best presence over the advisor's open consoles and
 * `lost_at` the time the last of them closed (0 while one is open). An
 * advisor whose consoles all closed less than `reconnect_seconds` ago
 * counts as away, so a reload of the page keeps the conversations taken.
 * An advisor who chose "offline" in an open console is offline at once. */
handoff_presence_t handoff_holder_presence(handoff_presence_t live,
                                           long long lost_at,
                                           int reconnect_seconds,
                                           long long now);

/* Returns 1 when the office is open on `weekday` (0 Sunday to 6 Saturday)
 * at `minute` past midnight, local time, according to `office_hours`
 * ({"mon": ["09:00", "17:00"], ...}; a missing day is closed). */
int handoff_office_open(const json_t *office_hours, int weekday, int minute);

/* Returns the milliseconds before the next attempt after `attempts` failed
 * deliveries: base, 2 base, 4 base, ..., at most one day. */
long long handoff_backoff_ms(int attempts, long long base_ms);

#endif
