/* A tiny HTTP server on 127.0.0.1 for the outbox tests: it records each
 * POST (path, Idempotency-Key header, body) and answers with the next
 * status of a plan. */
#ifndef STEMDESK_TEST_RECEIVER_H
#define STEMDESK_TEST_RECEIVER_H

#include <pthread.h>

#define RECEIVER_MAX_REQUESTS 16

typedef struct {
    int port;
    int listen_fd;
    pthread_t thread;
    pthread_mutex_t lock;
    int stop;
    int statuses[RECEIVER_MAX_REQUESTS]; /* 0: answer 200 */
    int count;
    long long arrived_ms[RECEIVER_MAX_REQUESTS];
    char keys[RECEIVER_MAX_REQUESTS][80];
    char bodies[RECEIVER_MAX_REQUESTS][4096];
} receiver_t;

/* Returns a port on 127.0.0.1 that was free a moment ago. */
int receiver_free_port(void);

/* Starts listening on `port`. Returns 0, or -1 when the port is taken. */
int receiver_start(receiver_t *receiver, int port);

/* Stops the thread and closes the socket. */
void receiver_stop(receiver_t *receiver);

/* Returns the number of requests received so far. */
int receiver_count(receiver_t *receiver);

/* Returns the wall-clock time in milliseconds. */
long long receiver_now_ms(void);

#endif
