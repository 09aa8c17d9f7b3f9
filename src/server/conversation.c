/* Conversations in memory, engine steps, and the frames that wait for the
 * write transaction to commit before they are sent. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "server/console.h"
#include "server/server_internal.h"

double srv_now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

srv_frame_t *srv_frame_new(const char *data, size_t len)
{
    srv_frame_t *frame = malloc(sizeof *frame + LWS_PRE + len);
    if (!frame)
        return NULL;
    frame->next = NULL;
    frame->len = len;
    memcpy(frame->buf + LWS_PRE, data, len);
    return frame;
}

srv_frame_t *srv_frame_json(const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    if (!text)
        return NULL;
    srv_frame_t *frame = srv_frame_new(text, strlen(text));
    free(text);
    return frame;
}

srv_frame_t *srv_frame_message(const char *body, long long seq)
{
    size_t len = strlen(body);
    if (len < 2 || body[len - 1] != '}')
        return NULL;
    char tail[64];
    int tail_len = snprintf(tail, sizeof tail,
                            "%s\"type\":\"message\","
                            "\"seq\":%lld}",
                            len > 2 ? "," : "", seq);
    srv_frame_t *frame =
        malloc(sizeof *frame + LWS_PRE + len - 1 + (size_t)tail_len);
    if (!frame)
        return NULL;
    frame->next = NULL;
    frame->len = len - 1 + (size_t)tail_len;
    memcpy(frame->buf + LWS_PRE, body, len - 1);
    memcpy(frame->buf + LWS_PRE + len - 1, tail, (size_t)tail_len);
    return frame;
}

void srv_queue_push(srv_queue_t *queue, srv_frame_t *frame)
{
    frame->next = NULL;
    if (queue->tail)
        queue->tail->next = frame;
    else
        queue->head = frame;
    queue->tail = frame;
    queue->count++;
}

srv_frame_t *srv_queue_pop(srv_queue_t *queue)
{
    srv_frame_t *frame = queue->head;
    if (!frame)
        return NULL;
    queue->head = frame->next;
    if (!queue->head)
        queue->tail = NULL;
    queue->count--;
    return frame;
}

void srv_queue_clear(srv_queue_t *queue)
{
    srv_frame_t *frame;
    while ((frame = srv_queue_pop(queue)))
        free(frame);
}

static size_t bucket_of(long long row)
{
    return (size_t)((unsigned long long)row * 2654435761u) %
           SRV_CONVERSATION_BUCKETS;
}

srv_conversation_t *srv_conversation_hold(srv_t *srv,
                                          store_conversation_t *loaded)
{
    size_t bucket = bucket_of(loaded->row);
    for (srv_conversation_t *c = srv->conversations[bucket]; c;
         c = c->hash_next) {
        if (c->row == loaded->row) {
            store_conversation_clear(loaded);
            c->refs++;
            return c;
        }
    }

    srv_conversation_t *c = calloc(1, sizeof *c);
    if (!c) {
        store_conversation_clear(loaded);
        return NULL;
    }
    c->row = loaded->row;
    memcpy(c->id, loaded->id, sizeof c->id);
    memcpy(c->mode, loaded->mode, sizeof c->mode);
    c->state = loaded->state;
    loaded->state = NULL;
    c->last_seq = loaded->last_seq;
    c->refs = 1;
    c->hash_next = srv->conversations[bucket];
    srv->conversations[bucket] = c;
    return c;
}

void srv_conversation_release(srv_t *srv, srv_conversation_t *conversation)
{
    if (!conversation || --conversation->refs > 0)
        return;
    srv_conversation_t **link =
        &srv->conversations[bucket_of(conversation->row)];
    while (*link && *link != conversation)
        link = &(*link)->hash_next;
    if (*link)
        *link = conversation->hash_next;
    json_decref(conversation->state);
    free(conversation);
}

static void commit_timer_fired(lws_sorted_usec_list_t *sul)
{
    srv_t *srv = lws_container_of(sul, srv_t, commit_timer);
    srv_commit_due(srv);
}

int srv_transaction_begin(srv_t *srv)
{
    if (srv->transaction_started > 0)
        return 0;
    if (store_begin(srv->store))
        return -1;
    srv->transaction_started = srv_now_monotonic();
    /* The loop commits after the pass in which commit_interval_ms has
     * passed. This timer bounds the wait when no other event wakes it. */
    lws_sul_schedule(srv->context, 0, &srv->commit_timer, commit_timer_fired,
                     (lws_usec_t)srv->cfg->commit_interval_ms * 1000);
    return 0;
}

/* Allocates a queued frame that holds a reference to `conversation`.
 * Returns NULL, with `frame` freed and the failure logged, when memory
 * runs out. */
static srv_pending_t *pending_new(srv_conversation_t *conversation,
                                  srv_visitor_t *only, srv_visitor_t *except,
                                  srv_frame_t *frame, double turn_started)
{
    srv_pending_t *pending = calloc(1, sizeof *pending);
    if (!pending || !frame) {
        LOG_ERROR("server",
                  "out of memory queueing a frame for "
                  "conversation %s",
                  conversation->id);
        free(pending);
        free(frame);
        return NULL;
    }
    conversation->refs++;
    pending->conversation = conversation;
    pending->only = only;
    pending->except = except;
    pending->frame = frame;
    pending->turn_started = turn_started;
    return pending;
}

void srv_pending_add(srv_t *srv, srv_conversation_t *conversation,
                     srv_visitor_t *only, srv_visitor_t *except,
                     srv_frame_t *frame, double turn_started)
{
    srv_pending_t *pending =
        pending_new(conversation, only, except, frame, turn_started);
    if (!pending)
        return;
    if (srv->pending_tail)
        srv->pending_tail->next = pending;
    else
        srv->pending_head = pending;
    srv->pending_tail = pending;
}

/* Returns 1 when `p` is meant for socket `v`. */
static int meant_for(const srv_pending_t *p, const srv_visitor_t *v)
{
    if (p->dropped)
        return 0;
    if (p->only)
        return p->only == v;
    return p->conversation == v->conversation && p->except != v;
}

int srv_pending_behind(srv_t *srv, srv_visitor_t *v, srv_frame_t *frame)
{
    int in_pending = 0, in_syncing = 0;
    if (!frame || !v->conversation)
        return 0;
    for (srv_pending_t *p = srv->pending_head; p && !in_pending; p = p->next)
        in_pending = meant_for(p, v);
    for (srv_pending_t *p = srv->syncing_head; p && !in_syncing; p = p->next)
        in_syncing = meant_for(p, v);
    if (in_pending) {
        srv_pending_add(srv, v->conversation, v, NULL, frame, 0);
        return 1;
    }
    if (!in_syncing)
        return 0;
    /* Behind the last commit handed to the syncer, which is at or after
     * the one that contains the frames of `v`. */
    srv_pending_t *p = pending_new(v->conversation, v, NULL, frame, 0);
    if (!p)
        return 1; /* the frame is freed and the failure logged */
    p->generation = srv->sync_requested;
    srv->syncing_tail->next = p;
    srv->syncing_tail = p;
    return 1;
}

/* Sends a committed frame to the sockets it is meant for. */
static void deliver(srv_pending_t *pending)
{
    if (pending->dropped) {
        free(pending->frame);
        return;
    }
    if (pending->only) {
        srv_visitor_send(pending->only, pending->frame);
        return;
    }
    srv_visitor_t *first = NULL;
    for (srv_visitor_t *v = pending->conversation->visitors; v;
         v = v->conversation_next) {
        if (v == pending->except)
            continue;
        if (!first) {
            first = v;
            continue;
        }
        srv_visitor_send(
            v, srv_frame_new((const char *)pending->frame->buf + LWS_PRE,
                             pending->frame->len));
    }
    if (first)
        srv_visitor_send(first, pending->frame);
    else
        free(pending->frame);
}

/* Reloads a conversation from the store after a failed commit, so that
 * memory matches what is durable, and closes its sockets: their clients
 * resume and receive what was kept. */
static void reset_conversation(srv_t *srv, srv_conversation_t *c)
{
    store_conversation_t loaded;
    if (store_conversation_by_id(srv->store, c->id, &loaded) == 0) {
        json_decref(c->state);
        c->state = loaded.state;
        c->last_seq = loaded.last_seq;
        memcpy(c->mode, loaded.mode, sizeof c->mode);
    }
    for (srv_visitor_t *v = c->visitors; v; v = v->conversation_next)
        srv_visitor_close(v, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                          "storage error");
}

/* Sends the frames of `pending` when their commit is durable (`ok`), or
 * drops them and resets their conversations, and frees the list. */
static void release(srv_t *srv, srv_pending_t *pending, int ok)
{
    double now = srv_now_monotonic();
    srv_conversation_t *last_notified = NULL;
    while (pending) {
        srv_pending_t *next = pending->next;
        srv_conversation_t *c = pending->conversation;
        if (ok) {
            if (pending->turn_started > 0)
                srv_metrics_latency(srv, now - pending->turn_started);
            deliver(pending);
            /* Frames of one conversation are queued together, so this
             * notifies the console once per conversation and commit. */
            if (c != last_notified && (!next || next->conversation != c)) {
                srv_console_conversation_changed(srv, c->id, c->last_seq,
                                                 c->mode, c->queue_changed);
                c->queue_changed = 0;
                last_notified = c;
            }
        } else {
            free(pending->frame);
            reset_conversation(srv, c);
        }
        srv_conversation_release(srv, c);
        free(pending);
        pending = next;
    }
}

/* Commits the open transaction. Its frames wait for the syncer or, without
 * one, go out at once. Returns 0, or -1 when the commit failed. */
static int commit_open(srv_t *srv)
{
    lws_sul_cancel(&srv->commit_timer);
    srv->transaction_started = 0;
    int rc = store_commit(srv->store);
    srv->metrics.commits++;

    srv_pending_t *pending = srv->pending_head;
    srv->pending_head = srv->pending_tail = NULL;
    if (rc == 0 && srv->sync_commits) {
        unsigned long long generation = store_syncer_request(srv->syncer);
        srv->sync_requested = generation;
        if (!pending)
            return 0;
        srv_pending_t *tail = pending;
        for (srv_pending_t *p = pending; p; p = p->next) {
            p->generation = generation;
            tail = p;
        }
        if (srv->syncing_tail)
            srv->syncing_tail->next = pending;
        else
            srv->syncing_head = pending;
        srv->syncing_tail = tail;
        return 0;
    }
    release(srv, pending, rc == 0);
    if (rc) {
        srv_metrics_error(srv, "storage_error");
        LOG_ERROR("server", "commit failed; replies of this pass were "
                            "dropped and their sockets closed");
    }
    return rc;
}

/* Takes the frames off the syncing list up to and including generation
 * `upto`, in order, and returns them as a list. */
static srv_pending_t *take_synced(srv_t *srv, unsigned long long upto)
{
    srv_pending_t *head = srv->syncing_head, *last = NULL;
    for (srv_pending_t *p = head; p && p->generation <= upto; p = p->next)
        last = p;
    if (!last)
        return NULL;
    srv->syncing_head = last->next;
    if (!srv->syncing_head)
        srv->syncing_tail = NULL;
    last->next = NULL;
    return head;
}

int srv_commit_due(srv_t *srv)
{
    if (srv->syncer && srv->sync_requested > srv->sync_seen)
        return 1;
    if (srv->transaction_started <= 0)
        return 0;
    double interval = srv->cfg->commit_interval_ms / 1000.0;
    if (srv_now_monotonic() - srv->transaction_started < interval)
        return 0;
    commit_open(srv);
    return srv->syncer && srv->sync_requested > srv->sync_seen;
}

void srv_sync_collect(srv_t *srv)
{
    if (!srv->syncer)
        return;
    unsigned long long synced, failed;
    store_syncer_state(srv->syncer, &synced, &failed);
    if (synced <= srv->sync_seen)
        return;
    srv->sync_seen = synced;
    srv_pending_t *done = take_synced(srv, synced);
    if (failed && done && done->generation <= failed) {
        /* A failed sync leaves its commits in the database but perhaps
         * not on the disk: their sockets are closed and the clients
         * resume from what the database holds. */
        srv_pending_t *bad = done;
        srv_pending_t *last = bad;
        while (last->next && last->next->generation <= failed)
            last = last->next;
        done = last->next;
        last->next = NULL;
        srv_metrics_error(srv, "storage_error");
        for (srv_pending_t *p = bad; p; p = p->next)
            if (!p->next || p->next->conversation != p->conversation)
                LOG_ERROR("server",
                          "sync of commit %llu failed; closing the sockets "
                          "of conversation %s so that they resume",
                          p->generation, p->conversation->id);
        release(srv, bad, 0);
    }
    release(srv, done, 1);
    srv_commit_due(srv);
}

int srv_flush(srv_t *srv)
{
    int rc = 0;
    if (srv->transaction_started > 0)
        rc = commit_open(srv);
    if (srv->syncer && srv->sync_requested > srv->sync_seen) {
        /* One sync here covers every commit so far. */
        int ok = store_syncer_sync_now(srv->syncer) == 0;
        srv->sync_seen = srv->sync_requested;
        if (!ok) {
            srv_metrics_error(srv, "storage_error");
            rc = -1;
        }
        release(srv, take_synced(srv, srv->sync_requested), ok);
    }
    return rc;
}

srv_frame_t *srv_status_frame(const srv_conversation_t *c)
{
    json_t *status = json_pack("{s:s,s:s}", "type", "status", "state", c->mode);
    const char *advisor =
        json_string_value(json_object_get(c->state, "advisor"));

    if (strcmp(c->mode, "advisor") == 0 && advisor && *advisor)
        json_object_set_new(status, "advisor", json_string(advisor));
    srv_frame_t *frame = srv_frame_json(status);
    json_decref(status);
    return frame;
}

/* Stores one outgoing message of the engine and queues it for sending. */
static int add_message(srv_t *srv, srv_conversation_t *c, json_t *message,
                       long long now, double turn_started)
{
    long long seq;
    if (!json_is_string(json_object_get(message, "from")))
        json_object_set_new(message, "from", json_string("bot"));

    /* One serialisation serves the stored body and the frame. */
    char *body = json_dumps(message, JSON_COMPACT);
    if (!body)
        return -1;
    const char *from = json_string_value(json_object_get(message, "from"));
    if (store_message_append_body(srv->store, c->row, NULL, from, body, now,
                                  &seq, NULL)) {
        free(body);
        return -1;
    }
    c->last_seq = seq;
    srv_pending_add(srv, c, NULL, NULL, srv_frame_message(body, seq),
                    turn_started);
    free(body);
    return 0;
}

/* Stores one effect and performs what belongs to the server. */
static int apply_effect(srv_t *srv, srv_conversation_t *c, const json_t *effect,
                        long long now)
{
    const char *type = json_string_value(json_object_get(effect, "type"));
    if (!type)
        return 0;
    if (strcmp(type, "status") == 0)
        return 0; /* the mode of the new state is what the server sends */
    if (strcmp(type, "unanswered") == 0) {
        const char *text = json_string_value(json_object_get(effect, "text"));
        return store_unanswered_add(srv->store, c->row, text, now);
    }

    /* NOTE: escalate, callback and partner effects are kept in the effects
     * table and handed to srv_console_effect(). The advisor queue, the
     * callback requests and the partner outbox are tables of the console. */
    if (store_effect_add(srv->store, c->row, effect, now))
        return -1;
    if (strcmp(type, "escalate") == 0) {
        const char *reason =
            json_string_value(json_object_get(effect, "reason"));
        if (store_conversation_escalate(srv->store, c->row, reason, now))
            return -1;
        srv->metrics.escalations++;
        c->queue_changed = 1;
        LOG_INFO("server", "conversation %s escalated: %s", c->id,
                 reason ? reason : "no reason given");
    }
    if (strcmp(type, "escalate") == 0 || strcmp(type, "callback") == 0 ||
        strcmp(type, "partner") == 0)
        return srv_console_effect(srv, c->id, effect, now);
    return 0;
}

int srv_conversation_step(srv_t *srv, srv_conversation_t *c, eng_event_t *event,
                          double turn_started)
{
    long long now = (long long)time(NULL);
    event->now = now;
    event->advisors_online = srv_console_advisors_online(srv);
    event->office_open = srv_office_open(srv->cfg, now);
    event->office_hours = srv->cfg->office_hours;

    eng_output_t out;
    memset(&out, 0, sizeof out);
    if (eng_step(&srv->bundle->content, c->state, event, &out)) {
        LOG_ERROR("server",
                  "engine step failed for conversation %s "
                  "(event %d)",
                  c->id, (int)event->kind);
        return -1;
    }
    if (srv_transaction_begin(srv))
        goto fail;

    size_t i;
    json_t *item;
    json_array_foreach(out.messages, i, item)
    {
        if (add_message(srv, c, item, now, turn_started))
            goto fail;
        turn_started = 0; /* observe each turn once */
    }
    json_array_foreach(out.effects, i, item)
    {
        if (apply_effect(srv, c, item, now))
            goto fail;
    }

    const char *mode = eng_state_mode(out.state);
    int mode_changed = 0;
    if (store_state_save(srv->store, c->row, out.state, mode, now))
        goto fail;
    if (strcmp(mode, c->mode) != 0) {
        snprintf(c->mode, sizeof c->mode, "%s", mode);
        mode_changed = 1;
    }
    json_decref(c->state);
    c->state = out.state;
    out.state = NULL;
    if (mode_changed)
        srv_pending_add(srv, c, NULL, NULL, srv_status_frame(c), 0);
    eng_output_free(&out);
    return 0;

fail:
    eng_output_free(&out);
    return -1;
}

int srv_conversation_event(srv_t *srv, const char *conversation,
                           const eng_event_t *event)
{
    store_conversation_t loaded;
    int rc = store_conversation_by_id(srv->store, conversation, &loaded);
    if (rc)
        return rc;
    srv_conversation_t *c = srv_conversation_hold(srv, &loaded);
    if (!c)
        return -1;
    eng_event_t copy = *event;
    rc = srv_conversation_step(srv, c, &copy, 0);
    srv_conversation_release(srv, c);
    if (rc)
        srv_metrics_error(srv, "engine_error");
    return rc;
}
