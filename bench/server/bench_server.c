/* Load client of the server benchmark. It starts `stemdesk serve
 * --bench-echo` on a temporary database, then measures, in one run:
 *
 *   - visitor turns over /chat (message sent to the first bot reply) at
 *     100 and 1,000 concurrent conversations. Each load also runs on the
 *     bare echo socket /bench-echo of the same server, and both print
 *     p50, p99, turns per second, server CPU time per turn and the ratio
 *     turn/echo. Two kinds of load run one after the other:
 *       closed loop: each socket sends its next turn as soon as the
 *         previous one is answered, which gives the saturation throughput;
 *       paced: each socket sends a turn every --interval-ms on average
 *         (each gap drawn uniformly within +/- --jitter of it), whatever
 *         the server does, which gives the latency at a fixed load. A
 *         turn that falls due while the previous one is still open is
 *         sent when it is answered, and its latency counts from the time
 *         it fell due.
 *   - the server's resident memory (VmRSS) with 10,000 idle visitor
 *     sockets that each said hello.
 *
 * Server CPU time comes from /proc/PID/schedstat (time on a CPU, in ns),
 * so it does not depend on what else runs on the machine. --repeat runs
 * every load again and ends with the median and range of each figure.
 *
 * Usage:
 *   bench_server STEMDESK_BINARY [--turns N] [--idle N] [--port N]
 *                [--commit-interval-ms N] [--db-synchronous full|normal]
 *                [--mode both|closed|paced] [--interval-ms N]
 *                [--jitter F] [--paced-seconds N] [--repeat N]
 * Run it from the repository root so that the server finds its content. */
#include <errno.h>
#include <ev.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOAD_COUNT 2
#define REPEAT_MAX 20

typedef enum { PATH_CHAT, PATH_ECHO } path_t;
typedef enum { LOAD_CLOSED, LOAD_PACED } load_kind_t;

typedef enum {
    CLIENT_CONNECTING,
    CLIENT_HELLO, /* hello sent, waiting for the first status */
    CLIENT_READY, /* idle, between turns or phases */
    CLIENT_TURN,  /* a turn is in flight */
    CLIENT_DONE,
    CLIENT_FAILED
} client_state_t;

typedef struct bench bench_t;

typedef struct {
    bench_t *bench;
    struct lws *wsi;
    int heap_slot; /* paced: place in the bench's due heap, -1: none */
    int index;
    client_state_t state;
    int turns_done;
    double due_at;     /* paced: when the turn to send fell due */
    double sent_at;    /* when the current turn's latency starts */
    int overdue;       /* paced: a turn fell due while one was open */
    long long ack_seq; /* 0 until the ack of the current turn */
    int want_send;
    int want_close; /* close at the next writable callback */
    char *rx;
    size_t rx_len, rx_cap;
} client_t;

/* A growing array of durations in seconds. */
typedef struct {
    double *values;
    size_t count, capacity;
} samples_t;

struct bench {
    struct lws_context *context;
    struct ev_loop *loop; /* libev on epoll, shared with libwebsockets */
    ev_timer tick;        /* wakes the loop to check deadlines */
    int due_fd;           /* timerfd: the earliest paced turn falls due */
    ev_io due_wake;       /* watches due_fd */
    client_t **due_heap;  /* clients with a turn to fall due, by due_at */
    int due_count;
    int port;
    path_t path;
    load_kind_t kind;
    client_t *clients;
    int count;
    int turns;        /* closed loop: turns per socket */
    double interval;  /* paced: mean gap between turns, seconds */
    double jitter;    /* paced: fraction of the gap drawn at random */
    double paced_end; /* paced: no turn falls due after this */
    uint64_t random;  /* xorshift state, fixed seed */
    int connecting, ready, done, failed, open_turns;
    samples_t latency;  /* turn latencies */
    samples_t send_lag; /* paced: send time minus due time */
    double first_send, last_reply;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns a number in [0, 1) from the bench's xorshift64 generator. */
static double random_unit(bench_t *b)
{
    b->random ^= b->random << 13;
    b->random ^= b->random >> 7;
    b->random ^= b->random << 17;
    return (double)(b->random >> 11) / 9007199254740992.0;
}

/* Appends one value; a failed allocation drops it and is reported. */
static void samples_add(samples_t *s, double value)
{
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 4096;
        double *bigger = realloc(s->values, capacity * sizeof *bigger);
        if (!bigger) {
            fprintf(stderr, "bench: out of memory keeping a sample\n");
            return;
        }
        s->values = bigger;
        s->capacity = capacity;
    }
    s->values[s->count++] = value;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Returns the q-quantile (0..1) of the values; sorts them in place. */
static double quantile(double *values, size_t count, double q)
{
    if (count == 0)
        return 0;
    qsort(values, count, sizeof *values, compare);
    size_t i = (size_t)((double)count * q);
    return values[i < count ? i : count - 1];
}

/* Visitor lines the bot answers without escalating. */
static const char *const lines[] = {"Hallo", "Wat is STEM?",
                                    "Welke initiatieven zijn er?"};

static int send_text(struct lws *wsi, const char *text)
{
    size_t len = strlen(text);
    unsigned char buffer[LWS_PRE + 512];
    if (len > 512)
        return -1;
    memcpy(buffer + LWS_PRE, text, len);
    return lws_write(wsi, buffer + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len ? -1
                                                                            : 0;
}

/* The due heap: a binary min-heap of clients by due_at, so that one
 * libev timer serves every paced client. */
static void heap_swap(bench_t *b, int i, int j)
{
    client_t *t = b->due_heap[i];
    b->due_heap[i] = b->due_heap[j];
    b->due_heap[j] = t;
    b->due_heap[i]->heap_slot = i;
    b->due_heap[j]->heap_slot = j;
}

static void heap_up(bench_t *b, int i)
{
    while (i > 0 && b->due_heap[(i - 1) / 2]->due_at > b->due_heap[i]->due_at) {
        heap_swap(b, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(bench_t *b, int i)
{
    for (;;) {
        int least = i, l = 2 * i + 1, r = l + 1;
        if (l < b->due_count &&
            b->due_heap[l]->due_at < b->due_heap[least]->due_at)
            least = l;
        if (r < b->due_count &&
            b->due_heap[r]->due_at < b->due_heap[least]->due_at)
            least = r;
        if (least == i)
            return;
        heap_swap(b, i, least);
        i = least;
    }
}

static void heap_remove(bench_t *b, client_t *c)
{
    int i = c->heap_slot;
    if (i < 0)
        return;
    c->heap_slot = -1;
    if (--b->due_count == i)
        return;
    b->due_heap[i] = b->due_heap[b->due_count];
    b->due_heap[i]->heap_slot = i;
    heap_down(b, i);
    heap_up(b, i);
}

/* Arms the due timer for the earliest due turn. A timerfd, because the
 * timers of libev on epoll wake up to a millisecond late, which would add
 * to every paced latency. */
static void arm_due(bench_t *b)
{
    struct itimerspec when;
    memset(&when, 0, sizeof when);
    if (b->due_count > 0) {
        double due = b->due_heap[0]->due_at;
        when.it_value.tv_sec = (time_t)due;
        when.it_value.tv_nsec = (long)((due - (double)(time_t)due) * 1e9);
        if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
            when.it_value.tv_nsec = 1;
    }
    timerfd_settime(b->due_fd, TFD_TIMER_ABSTIME, &when, NULL);
}

/* Schedules the next paced turn of `c` at `due`, unless the paced period
 * is over by then. */
static void schedule_at(client_t *c, double due)
{
    bench_t *b = c->bench;
    heap_remove(b, c);
    if (due > b->paced_end)
        return;
    c->due_at = due;
    c->heap_slot = b->due_count;
    b->due_heap[b->due_count++] = c;
    heap_up(b, c->heap_slot);
    if (c->heap_slot == 0)
        arm_due(b);
}

/* Schedules the next paced turn of `c` one random gap after `after`. */
static void schedule_next(client_t *c, double after)
{
    bench_t *b = c->bench;
    double gap = b->interval * (1 + b->jitter * (2 * random_unit(b) - 1));
    schedule_at(c, after + gap);
}

static int send_turn(client_t *c)
{
    bench_t *b = c->bench;
    char frame[256];
    snprintf(frame, sizeof frame,
             "{\"type\":\"message\",\"text\":\"%s\","
             "\"client_id\":\"%c-%d-%d\"}",
             lines[c->turns_done % 3], b->path == PATH_CHAT ? 'b' : 'e',
             c->index, c->turns_done);
    double now = now_seconds();
    c->ack_seq = 0;
    c->sent_at = now;
    if (b->kind == LOAD_PACED) {
        /* Latency counts from the time the turn fell due, so a late send
         * (client busy, or the previous turn still open) is not hidden. */
        c->sent_at = c->due_at;
        samples_add(&b->send_lag, now - c->due_at);
        schedule_next(c, c->due_at);
    }
    if (b->first_send == 0)
        b->first_send = now;
    c->state = CLIENT_TURN;
    b->open_turns++;
    return send_text(c->wsi, frame);
}

static void turn_due(client_t *c)
{
    if (!c->wsi)
        return;
    if (c->state == CLIENT_TURN) {
        c->overdue = 1;
        return;
    }
    c->want_send = 1;
    lws_callback_on_writable(c->wsi);
}

/* Starts every paced turn that has fallen due. */
static void due_fired(struct ev_loop *loop, ev_io *watcher, int revents)
{
    (void)loop;
    (void)revents;
    bench_t *b = watcher->data;
    uint64_t expirations;
    if (read(b->due_fd, &expirations, sizeof expirations) < 0 &&
        errno != EAGAIN)
        perror("bench: timerfd");
    double now = now_seconds();
    while (b->due_count > 0 && b->due_heap[0]->due_at <= now) {
        client_t *c = b->due_heap[0];
        heap_remove(b, c);
        turn_due(c);
    }
    arm_due(b);
}

static void finish_turn(client_t *c)
{
    bench_t *b = c->bench;
    double t = now_seconds();
    samples_add(&b->latency, t - c->sent_at);
    b->last_reply = t;
    b->open_turns--;
    c->turns_done++;
    c->state = CLIENT_READY;
    if (b->kind == LOAD_PACED) {
        if (c->overdue) {
            c->overdue = 0;
            c->want_send = 1;
            lws_callback_on_writable(c->wsi);
        }
        return;
    }
    if (c->turns_done >= b->turns) {
        c->state = CLIENT_DONE;
        b->done++;
        return;
    }
    c->want_send = 1;
    lws_callback_on_writable(c->wsi);
}

/* Handles one complete frame from the server. */
static void on_frame(client_t *c, const char *data, size_t len)
{
    bench_t *b = c->bench;
    if (b->path == PATH_ECHO) {
        if (c->state == CLIENT_TURN)
            finish_turn(c);
        return;
    }
    json_t *frame = json_loadb(data, len, 0, NULL);
    const char *type = json_string_value(json_object_get(frame, "type"));
    if (!type) {
        json_decref(frame);
        return;
    }
    if (strcmp(type, "status") == 0 && c->state == CLIENT_HELLO) {
        c->state = CLIENT_READY;
        b->ready++;
    } else if (strcmp(type, "ack") == 0 && c->state == CLIENT_TURN) {
        c->ack_seq = json_integer_value(json_object_get(frame, "seq"));
    } else if (strcmp(type, "message") == 0 && c->state == CLIENT_TURN &&
               c->ack_seq > 0 &&
               json_integer_value(json_object_get(frame, "seq")) > c->ack_seq) {
        finish_turn(c);
    } else if (strcmp(type, "error") == 0) {
        fprintf(stderr, "bench: client %d got error %s\n", c->index,
                json_string_value(json_object_get(frame, "code")));
    }
    json_decref(frame);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    client_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->bench->connecting--;
        if (c->bench->path == PATH_CHAT) {
            c->state = CLIENT_HELLO;
            c->want_send = 1;
            lws_callback_on_writable(wsi);
        } else {
            c->state = CLIENT_READY;
            c->bench->ready++;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->want_close) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        if (!c->want_send)
            return 0;
        c->want_send = 0;
        if (c->state == CLIENT_HELLO)
            return send_text(wsi, "{\"type\":\"hello\",\"token\":null,"
                                  "\"last_seq\":0}");
        return send_turn(c);
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        if (c->rx_len + len > c->rx_cap) {
            c->rx_cap = (c->rx_len + len) * 2;
            c->rx = realloc(c->rx, c->rx_cap);
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
            on_frame(c, c->rx, c->rx_len);
            c->rx_len = 0;
        }
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        fprintf(stderr, "bench: client %d failed to connect: %s\n", c->index,
                in ? (const char *)in : "no reason");
        c->bench->connecting--;
        /* fallthrough */
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (!c)
            return 0;
        if (c->state != CLIENT_DONE && c->state != CLIENT_FAILED) {
            if (c->state == CLIENT_TURN)
                c->bench->open_turns--;
            c->state = CLIENT_FAILED;
            c->bench->failed++;
        }
        c->wsi = NULL;
        return 0;
    default:
        return 0;
    }
}

/* Wakes the loop every 50 ms, so that deadlines are checked even when no
 * socket has anything to do. */
static void tick(struct ev_loop *loop, ev_timer *watcher, int revents)
{
    (void)loop;
    (void)watcher;
    (void)revents;
}

/* Runs one pass of the event loop: waits for events, then handles them. */
static void service(bench_t *b)
{
    ev_run(b->loop, EVRUN_ONCE);
}

static const struct lws_protocols protocols[] = {
    {"bench", callback, 0, 8192, 0, NULL, 0}, {NULL, NULL, 0, 0, 0, NULL, 0}};

static void connect_client(bench_t *b, client_t *c)
{
    struct lws_client_connect_info info;
    memset(&info, 0, sizeof info);
    info.context = b->context;
    info.address = "127.0.0.1";
    info.port = b->port;
    info.path = b->path == PATH_CHAT ? "/chat" : "/bench-echo";
    info.host = "127.0.0.1";
    info.local_protocol_name = "bench";
    info.userdata = c;
    info.pwsi = &c->wsi;
    c->state = CLIENT_CONNECTING;
    b->connecting++;
    if (!lws_client_connect_via_info(&info)) {
        b->connecting--;
        c->state = CLIENT_FAILED;
        b->failed++;
    }
}

/* Opens `count` sockets, at most 200 handshakes at a time, and waits
 * until each is ready (after hello on /chat). */
static int open_clients(bench_t *b, int count)
{
    b->clients = calloc((size_t)count, sizeof *b->clients);
    free(b->due_heap);
    b->due_heap = calloc((size_t)count, sizeof *b->due_heap);
    b->due_count = 0;
    if (!b->clients || !b->due_heap)
        return -1;
    for (int i = 0; i < count; i++)
        b->clients[i].heap_slot = -1;
    b->count = count;
    int next = 0;
    double deadline = now_seconds() + 120;
    while (b->ready + b->failed < count) {
        while (next < count && b->connecting < 200) {
            b->clients[next].bench = b;
            b->clients[next].index = next;
            connect_client(b, &b->clients[next]);
            next++;
        }
        service(b);
        if (now_seconds() > deadline) {
            fprintf(stderr, "bench: timed out opening sockets (%d ready)\n",
                    b->ready);
            return -1;
        }
    }
    return b->failed ? -1 : 0;
}

static void close_clients(bench_t *b)
{
    for (int i = 0; i < b->count; i++) {
        heap_remove(b, &b->clients[i]);
        /* Closed from the writable callback: a timeout would wait for
         * a libwebsockets timer, which the libev plugin may fire late. */
        if (b->clients[i].wsi) {
            b->clients[i].want_close = 1;
            lws_callback_on_writable(b->clients[i].wsi);
        }
    }
    double deadline = now_seconds() + 5;
    int open;
    do {
        open = 0;
        service(b);
        for (int i = 0; i < b->count; i++)
            open += b->clients[i].wsi != NULL;
    } while (open && now_seconds() < deadline);
    for (int i = 0; i < b->count; i++)
        free(b->clients[i].rx);
    free(b->clients);
    b->clients = NULL;
    b->count = b->ready = b->done = b->failed = b->connecting = 0;
    b->open_turns = 0;
}

/* Time the process has spent on a CPU, in seconds, from
 * /proc/PID/schedstat; -1 when it cannot be read. */
static double cpu_seconds(pid_t pid)
{
    char path[64];
    unsigned long long ns = 0;
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = fscanf(f, "%llu", &ns);
    fclose(f);
    return n == 1 ? (double)ns / 1e9 : -1;
}

typedef struct {
    double p50, p99, per_second;
    double server_cpu_us; /* server CPU time per turn, microseconds */
    double client_cpu_us; /* this client's CPU time per turn */
    double lag_p99;       /* paced: send time minus due time */
    size_t turns;
} result_t;

static double self_cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* Starts the turns of every socket: all at once in a closed loop, spread
 * over one interval when paced. */
static void start_turns(bench_t *b, double start)
{
    for (int i = 0; i < b->count; i++) {
        client_t *c = &b->clients[i];
        if (b->kind == LOAD_CLOSED) {
            c->want_send = 1;
            lws_callback_on_writable(c->wsi);
        } else {
            /* The first turn falls due at a random point of the first
             * interval, so the load is even from the start. */
            schedule_at(c, start + b->interval * random_unit(b));
        }
    }
}

/* Runs until every closed-loop socket did its turns, or until the paced
 * period is over and its last turns are answered. Returns -1 on a
 * timeout. */
static int serve_until_done(bench_t *b)
{
    double deadline =
        b->kind == LOAD_CLOSED ? now_seconds() + 300 : b->paced_end + 60;
    for (;;) {
        double now = now_seconds();
        if (b->kind == LOAD_CLOSED && b->done + b->failed >= b->count)
            return 0;
        if (b->kind == LOAD_PACED && now > b->paced_end && b->open_turns <= 0)
            return 0;
        if (now > deadline)
            return -1;
        service(b);
    }
}

/* Runs one load of `count` sockets on `path` and fills `out`. */
static int run_load(bench_t *b, pid_t server, path_t path, load_kind_t kind,
                    int count, double paced_seconds, result_t *out)
{
    memset(out, 0, sizeof *out);
    b->path = path;
    b->kind = kind;
    if (open_clients(b, count)) {
        close_clients(b);
        return -1;
    }
    b->latency.count = b->send_lag.count = 0;
    b->first_send = b->last_reply = 0;

    double server_before = cpu_seconds(server);
    double client_before = self_cpu_seconds();
    double start = now_seconds();
    b->paced_end = start + paced_seconds;
    start_turns(b, start);
    int rc = serve_until_done(b);
    double server_cpu = cpu_seconds(server) - server_before;
    double client_cpu = self_cpu_seconds() - client_before;

    out->turns = b->latency.count;
    out->p50 = quantile(b->latency.values, b->latency.count, 0.50);
    out->p99 = quantile(b->latency.values, b->latency.count, 0.99);
    out->lag_p99 = quantile(b->send_lag.values, b->send_lag.count, 0.99);
    if (out->turns) {
        out->server_cpu_us = server_cpu * 1e6 / (double)out->turns;
        out->client_cpu_us = client_cpu * 1e6 / (double)out->turns;
    }
    double span =
        kind == LOAD_CLOSED ? b->last_reply - b->first_send : paced_seconds;
    out->per_second = span > 0 ? (double)out->turns / span : 0;
    if (rc || b->failed)
        rc = -1;
    close_clients(b);
    return rc;
}

static long resident_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static pid_t start_server(const char *binary, int port, const char *folder,
                          const char *commit_ms, const char *synchronous)
{
    char port_text[16], db[256];
    snprintf(port_text, sizeof port_text, "%d", port);
    snprintf(db, sizeof db, "%s/bench.db", folder);
    pid_t pid = fork();
    if (pid == 0) {
        execl(binary, binary, "serve", "--bench-echo", "--port", port_text,
              "--db-path", db, "--log-level", "warn",
              "--rate-messages-per-minute", "100000",
              "--max-sockets-per-address", "1000000", "--max-sockets", "20000",
              "--commit-interval-ms", commit_ms, "--db-synchronous",
              synchronous, (char *)NULL);
        perror("bench: exec");
        _exit(127);
    }
    return pid;
}

/* Waits until the server accepts an HTTP connection on its port. Returns
 * -2 at once when the server exits (it is reaped), -1 on a timeout. */
static int wait_for_server(bench_t *b, pid_t server)
{
    double deadline = now_seconds() + 60;
    while (now_seconds() < deadline) {
        if (waitpid(server, NULL, WNOHANG) == server)
            return -2;
        char command[128];
        snprintf(command, sizeof command,
                 "curl -sf -o /dev/null http://127.0.0.1:%d/healthz", b->port);
        if (system(command) == 0)
            return 0;
        usleep(100000);
    }
    return -1;
}

static void print_pair(const char *label, int count, const result_t *turn,
                       const result_t *echo, load_kind_t kind)
{
    printf("%-6s %5d  turn: p50 %8.3f ms  p99 %8.3f ms  %7.0f/s  "
           "server %6.1f us/turn  client %5.1f us  (%zu turns)\n",
           label, count, turn->p50 * 1e3, turn->p99 * 1e3, turn->per_second,
           turn->server_cpu_us, turn->client_cpu_us, turn->turns);
    printf("%-6s %5d  echo: p50 %8.3f ms  p99 %8.3f ms  %7.0f/s  "
           "server %6.1f us/frame client %5.1f us  (%zu frames)\n",
           label, count, echo->p50 * 1e3, echo->p99 * 1e3, echo->per_second,
           echo->server_cpu_us, echo->client_cpu_us, echo->turns);
    printf("%-6s %5d  ratio turn/echo: p50 %6.2f  p99 %6.2f  "
           "server CPU %6.2f",
           label, count, echo->p50 > 0 ? turn->p50 / echo->p50 : 0,
           echo->p99 > 0 ? turn->p99 / echo->p99 : 0,
           echo->server_cpu_us > 0 ? turn->server_cpu_us / echo->server_cpu_us
                                   : 0);
    if (kind == LOAD_PACED)
        printf("  (send lag p99: turn %.3f ms, echo %.3f ms)",
               turn->lag_p99 * 1e3, echo->lag_p99 * 1e3);
    printf("\n");
}

/* Results of one load kind and size over all repeats. */
typedef struct {
    result_t turn[REPEAT_MAX], echo[REPEAT_MAX];
    int runs;
} series_t;

typedef double (*figure_fn)(const result_t *turn, const result_t *echo);

static double turn_p50(const result_t *t, const result_t *e)
{
    (void)e;
    return t->p50 * 1e3;
}
static double turn_p99(const result_t *t, const result_t *e)
{
    (void)e;
    return t->p99 * 1e3;
}
static double echo_p50(const result_t *t, const result_t *e)
{
    (void)t;
    return e->p50 * 1e3;
}
static double echo_p99(const result_t *t, const result_t *e)
{
    (void)t;
    return e->p99 * 1e3;
}
static double p99_ratio(const result_t *t, const result_t *e)
{
    return e->p99 > 0 ? t->p99 / e->p99 : 0;
}
static double turn_rate(const result_t *t, const result_t *e)
{
    (void)e;
    return t->per_second;
}
static double echo_rate(const result_t *t, const result_t *e)
{
    (void)t;
    return e->per_second;
}
static double turn_cpu(const result_t *t, const result_t *e)
{
    (void)e;
    return t->server_cpu_us;
}
static double echo_cpu(const result_t *t, const result_t *e)
{
    (void)t;
    return e->server_cpu_us;
}

/* Prints "median (min-max)" of one figure over the runs of a series. */
static void print_spread(const char *name, const series_t *s, figure_fn fn)
{
    double values[REPEAT_MAX];
    for (int i = 0; i < s->runs; i++)
        values[i] = fn(&s->turn[i], &s->echo[i]);
    size_t n = (size_t)s->runs;
    qsort(values, n, sizeof *values, compare);
    double median =
        n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    /* Large counts print whole, small durations with 3 digits. */
    const char *format =
        median >= 100 ? "  %s %.0f (%.0f-%.0f)" : "  %s %.3g (%.3g-%.3g)";
    printf(format, name, median, values[0], values[s->runs - 1]);
}

static void print_summary(const char *label, int count, const series_t *s)
{
    printf("%-6s %5d  median (min-max) of %d runs:\n", label, count, s->runs);
    print_spread("turn p50 ms", s, turn_p50);
    print_spread("turn p99 ms", s, turn_p99);
    print_spread("echo p50 ms", s, echo_p50);
    print_spread("echo p99 ms", s, echo_p99);
    printf("\n");
    print_spread("p99 ratio", s, p99_ratio);
    print_spread("turns/s", s, turn_rate);
    print_spread("echo/s", s, echo_rate);
    print_spread("server us/turn", s, turn_cpu);
    print_spread("us/echo", s, echo_cpu);
    printf("\n");
}

typedef struct {
    const char *binary;
    int idle;
    int repeat;
    int closed, paced;
    double paced_seconds;
    const char *commit_ms;
    const char *synchronous;
} options_t;

static int parse_options(int argc, char **argv, bench_t *b, options_t *o)
{
    for (int i = 2; i < argc; i += 2) {
        const char *name = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!value) {
            fprintf(stderr, "bench: option %s needs a value\n", name);
            return -1;
        }
        if (strcmp(name, "--turns") == 0)
            b->turns = atoi(value);
        else if (strcmp(name, "--idle") == 0)
            o->idle = atoi(value);
        else if (strcmp(name, "--port") == 0)
            b->port = atoi(value);
        else if (strcmp(name, "--commit-interval-ms") == 0)
            o->commit_ms = value;
        else if (strcmp(name, "--db-synchronous") == 0)
            o->synchronous = value;
        else if (strcmp(name, "--interval-ms") == 0)
            b->interval = atof(value) / 1e3;
        else if (strcmp(name, "--jitter") == 0)
            b->jitter = atof(value);
        else if (strcmp(name, "--paced-seconds") == 0)
            o->paced_seconds = atof(value);
        else if (strcmp(name, "--repeat") == 0)
            o->repeat = atoi(value);
        else if (strcmp(name, "--mode") == 0) {
            o->closed = strcmp(value, "paced") != 0;
            o->paced = strcmp(value, "closed") != 0;
            if (strcmp(value, "both") && strcmp(value, "closed") &&
                strcmp(value, "paced")) {
                fprintf(stderr,
                        "bench: invalid --mode %s; use both, closed "
                        "or paced\n",
                        value);
                return -1;
            }
        } else {
            fprintf(stderr, "bench: unknown option %s\n", name);
            return -1;
        }
    }
    if (o->repeat < 1 || o->repeat > REPEAT_MAX || b->turns < 1 ||
        b->interval <= 0 || b->jitter < 0 || b->jitter >= 1 ||
        o->paced_seconds <= 0) {
        fprintf(stderr,
                "bench: invalid value: --repeat takes 1 to %d, "
                "--turns and --interval-ms more than 0, --jitter 0 "
                "to below 1\n",
                REPEAT_MAX);
        return -1;
    }
    return 0;
}

/* Measures the server's memory with `idle` visitor sockets open. */
static int measure_idle(bench_t *b, pid_t server, int idle)
{
    long before = resident_kib(server);
    b->path = PATH_CHAT;
    int rc = open_clients(b, idle);
    if (rc == 0) {
        sleep(1);
        long after = resident_kib(server);
        printf("%d idle visitor sockets: server VmRSS %.1f MiB "
               "(%.1f MiB before they opened, %.2f KiB per socket)\n",
               idle, after / 1024.0, before / 1024.0,
               (double)(after - before) / idle);
    } else {
        fprintf(stderr, "bench: opening %d idle sockets failed\n", idle);
    }
    close_clients(b);
    return rc;
}

/* Runs echo then turns for one kind and size; returns -1 on failure. */
static int run_pair(bench_t *b, pid_t server, load_kind_t kind, int count,
                    const options_t *o, series_t *s)
{
    result_t *echo = &s->echo[s->runs], *turn = &s->turn[s->runs];
    double seconds = o->paced_seconds;
    if (run_load(b, server, PATH_ECHO, kind, count, seconds, echo) ||
        run_load(b, server, PATH_CHAT, kind, count, seconds, turn)) {
        fprintf(stderr, "bench: %s load of %d failed\n",
                kind == LOAD_CLOSED ? "closed-loop" : "paced", count);
        return -1;
    }
    print_pair(kind == LOAD_CLOSED ? "closed" : "paced", count, turn, echo,
               kind);
    s->runs++;
    return 0;
}

/* Removes the temporary folder of the server's database. */
static void remove_folder(const char *folder)
{
    char command[128];
    snprintf(command, sizeof command, "rm -rf %s", folder);
    if (system(command) != 0)
        fprintf(stderr, "bench: could not remove %s\n", folder);
}

static void print_header(const bench_t *b, const options_t *o,
                         unsigned long long file_limit)
{
    char load[64] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(load, sizeof load, f))
            snprintf(load, sizeof load, "?");
        load[strcspn(load, "\n")] = '\0';
        fclose(f);
    }
    printf("server benchmark: commit_interval_ms %s, db_synchronous %s, "
           "%ld CPUs online, load average %s, open-file limit %llu\n",
           o->commit_ms, o->synchronous, sysconf(_SC_NPROCESSORS_ONLN), load,
           file_limit);
    if (o->closed)
        printf("closed: each socket sends its next frame as soon as the "
               "last is answered, %d turns per socket\n",
               b->turns);
    if (o->paced)
        printf("paced: each socket sends one frame every %.0f ms +/- %.0f%% "
               "(uniform), for %.0f s; latency counts from the time a "
               "frame falls due\n",
               b->interval * 1e3, b->jitter * 100, o->paced_seconds);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: bench_server STEMDESK_BINARY [--turns N] [--idle N] "
                "[--port N] [--commit-interval-ms N] "
                "[--db-synchronous full|normal] [--mode both|closed|paced] "
                "[--interval-ms N] [--jitter F] [--paced-seconds N] "
                "[--repeat N]\n");
        return 2;
    }
    static bench_t b;
    b.port = 18931;
    b.turns = 20;
    b.interval = 2.0;
    b.jitter = 0.5;
    b.random = 0x9e3779b97f4a7c15ull;
    options_t o = {.binary = argv[1],
                   .idle = 10000,
                   .repeat = 1,
                   .closed = 1,
                   .paced = 1,
                   .paced_seconds = 20,
                   .commit_ms = "0",
                   .synchronous = "full"};
    if (parse_options(argc, argv, &b, &o))
        return 2;

    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    signal(SIGPIPE, SIG_IGN);

    char folder[] = "/tmp/stemdesk-bench-XXXXXX";
    if (!mkdtemp(folder)) {
        perror("bench: mkdtemp");
        return 1;
    }
    pid_t server =
        start_server(o.binary, b.port, folder, o.commit_ms, o.synchronous);
    int started = wait_for_server(&b, server);
    if (started) {
        fprintf(stderr, "bench: the server did not start; run it by hand "
                        "from the repository root to see why\n");
        if (started == -1) {
            kill(server, SIGTERM);
            waitpid(server, NULL, 0);
        }
        remove_folder(folder);
        return 1;
    }

    lws_set_log_level(LLL_ERR, NULL);
    /* The client runs libwebsockets on libev with epoll, so that its cost
     * per frame does not grow with the number of open sockets. */
    b.loop = ev_loop_new(EVBACKEND_EPOLL);
    if (!b.loop) {
        fprintf(stderr, "bench: cannot create the libev loop\n");
        return 1;
    }
    void *foreign_loops[1] = {b.loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBEV;
    info.foreign_loops = foreign_loops;
    b.context = lws_create_context(&info);
    if (!b.context) {
        fprintf(stderr, "bench: cannot create the libwebsockets context "
                        "(is the libev plugin of libwebsockets installed?)\n");
        return 1;
    }
    ev_timer_init(&b.tick, tick, 0.05, 0.05);
    ev_timer_start(b.loop, &b.tick);
    b.due_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (b.due_fd < 0) {
        perror("bench: timerfd_create");
        return 1;
    }
    ev_io_init(&b.due_wake, due_fired, b.due_fd, EV_READ);
    b.due_wake.data = &b;
    ev_io_start(b.loop, &b.due_wake);
    setvbuf(stdout, NULL, _IOLBF, 0);
    print_header(&b, &o, (unsigned long long)limit.rlim_cur);

    int rc = 0;
    if (o.idle > 0 && measure_idle(&b, server, o.idle))
        rc = 1;

    const int loads[LOAD_COUNT] = {100, 1000};
    static series_t closed[LOAD_COUNT], paced[LOAD_COUNT];
    for (int r = 0; r < o.repeat && rc == 0; r++) {
        if (o.repeat > 1)
            printf("run %d of %d\n", r + 1, o.repeat);
        for (int i = 0; i < LOAD_COUNT && rc == 0; i++) {
            if (o.closed &&
                run_pair(&b, server, LOAD_CLOSED, loads[i], &o, &closed[i]))
                rc = 1;
            if (rc == 0 && o.paced &&
                run_pair(&b, server, LOAD_PACED, loads[i], &o, &paced[i]))
                rc = 1;
        }
    }
    for (int i = 0; i < LOAD_COUNT && rc == 0 && o.repeat > 1; i++) {
        if (o.closed)
            print_summary("closed", loads[i], &closed[i]);
        if (o.paced)
            print_summary("paced", loads[i], &paced[i]);
    }

    ev_timer_stop(b.loop, &b.tick);
    ev_io_stop(b.loop, &b.due_wake);
    close(b.due_fd);
    lws_context_destroy(b.context);
    ev_loop_destroy(b.loop);
    free(b.due_heap);
    free(b.latency.values);
    free(b.send_lag.values);
    kill(server, SIGTERM);
    int status;
    waitpid(server, &status, 0);
    remove_folder(folder);
    return rc;
}
