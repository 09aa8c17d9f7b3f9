/* Counters of the server in the Prometheus text exposition format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server_internal.h"

/* Error codes counted in srv_metrics_t.errors, by index. */
static const char *const error_codes[] = {
    "invalid_json",         "unknown_type",    "invalid_field",
    "hello_required",       "hello_repeated",  "rate_limited",
    "unknown_conversation", "text_too_long",   "engine_error",
    "storage_error",        "frame_too_large", "invalid_utf8",
    "unsupported_data",     "origin_rejected", "too_many_sockets",
    "server_full",          "other",
};
#define ERROR_CODE_COUNT (sizeof error_codes / sizeof *error_codes)

/* Upper bounds of the turn latency histogram, in seconds. */
static const double latency_bounds[SRV_LATENCY_BUCKETS - 1] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};

void srv_metrics_error(srv_t *srv, const char *code)
{
    size_t i;
    for (i = 0; i < ERROR_CODE_COUNT - 1; i++)
        if (strcmp(error_codes[i], code) == 0)
            break;
    srv->metrics.errors[i]++;
}

void srv_metrics_latency(srv_t *srv, double seconds)
{
    size_t i = 0;
    while (i < SRV_LATENCY_BUCKETS - 1 && seconds > latency_bounds[i])
        i++;
    srv->metrics.latency_buckets[i]++;
    srv->metrics.latency_sum += seconds;
    srv->metrics.latency_count++;
}

/* Appends formatted text to a growing buffer; NULL once out of memory. */
static char *append(char *buffer, size_t *len, size_t *cap, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));

#include <stdarg.h>

static char *append(char *buffer, size_t *len, size_t *cap, const char *fmt,
                    ...)
{
    if (!buffer)
        return NULL;
    for (;;) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(buffer + *len, *cap - *len, fmt, args);
        va_end(args);
        if (n < 0) {
            free(buffer);
            return NULL;
        }
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return buffer;
        }
        char *bigger = realloc(buffer, *cap * 2);
        if (!bigger) {
            free(buffer);
            return NULL;
        }
        buffer = bigger;
        *cap *= 2;
    }
}

char *srv_metrics_render(srv_t *srv)
{
    const srv_metrics_t *m = &srv->metrics;
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    long long conversations = 0;
    store_count_conversations(srv->store, &conversations);

    out = append(out, &len, &cap,
                 "# HELP stemdesk_sockets_open Open visitor sockets.\n"
                 "# TYPE stemdesk_sockets_open gauge\n"
                 "stemdesk_sockets_open %lld\n"
                 "# HELP stemdesk_conversations Conversations stored.\n"
                 "# TYPE stemdesk_conversations gauge\n"
                 "stemdesk_conversations %lld\n"
                 "# HELP stemdesk_conversations_started_total Conversations "
                 "started since the server started.\n"
                 "# TYPE stemdesk_conversations_started_total counter\n"
                 "stemdesk_conversations_started_total %lld\n"
                 "# HELP stemdesk_turns_total Visitor messages handled.\n"
                 "# TYPE stemdesk_turns_total counter\n"
                 "stemdesk_turns_total %lld\n"
                 "# HELP stemdesk_escalations_total Escalations to an "
                 "advisor.\n"
                 "# TYPE stemdesk_escalations_total counter\n"
                 "stemdesk_escalations_total %lld\n"
                 "# HELP stemdesk_commits_total Write transactions "
                 "committed or attempted.\n"
                 "# TYPE stemdesk_commits_total counter\n"
                 "stemdesk_commits_total %lld\n"
                 "# HELP stemdesk_reloads_total Content reloads, by "
                 "result.\n"
                 "# TYPE stemdesk_reloads_total counter\n"
                 "stemdesk_reloads_total{result=\"ok\"} %lld\n"
                 "stemdesk_reloads_total{result=\"failed\"} %lld\n"
                 "# HELP stemdesk_errors_total Errors, by code.\n"
                 "# TYPE stemdesk_errors_total counter\n",
                 m->sockets_open, conversations, m->conversations_started,
                 m->turns, m->escalations, m->commits, m->reloads,
                 m->reload_failures);
    for (size_t i = 0; i < ERROR_CODE_COUNT; i++)
        out =
            append(out, &len, &cap, "stemdesk_errors_total{code=\"%s\"} %lld\n",
                   error_codes[i], m->errors[i]);

    out = append(out, &len, &cap,
                 "# HELP stemdesk_turn_latency_seconds Time from a visitor "
                 "message to its commit, engine step included.\n"
                 "# TYPE stemdesk_turn_latency_seconds histogram\n");
    long long cumulative = 0;
    for (size_t i = 0; i < SRV_LATENCY_BUCKETS; i++) {
        cumulative += m->latency_buckets[i];
        if (i < SRV_LATENCY_BUCKETS - 1)
            out = append(out, &len, &cap,
                         "stemdesk_turn_latency_seconds_bucket{le=\"%g\"} "
                         "%lld\n",
                         latency_bounds[i], cumulative);
        else
            out = append(out, &len, &cap,
                         "stemdesk_turn_latency_seconds_bucket{le=\"+Inf\"} "
                         "%lld\n",
                         cumulative);
    }
    out = append(out, &len, &cap,
                 "stemdesk_turn_latency_seconds_sum %.6f\n"
                 "stemdesk_turn_latency_seconds_count %lld\n",
                 m->latency_sum, m->latency_count);
    return out;
}
