/* A bare echo socket at /bench-echo, only with `serve --bench-echo`: the
 * baseline that the server benchmark compares turns against, on the same
 * libwebsockets setup. */
#include <stdlib.h>
#include <string.h>

#include "server/server_internal.h"

typedef struct {
    srv_queue_t out;
} echo_session_t;

const size_t srv_echo_session_size = sizeof(echo_session_t);

int srv_echo_callback(struct lws *wsi, enum lws_callback_reasons reason,
                      void *user, void *in, size_t len)
{
    echo_session_t *session = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED:
        memset(session, 0, sizeof *session);
        return 0;
    case LWS_CALLBACK_RECEIVE: {
        srv_frame_t *frame = srv_frame_new(in, len);
        if (!frame)
            return -1;
        srv_queue_push(&session->out, frame);
        lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        srv_frame_t *frame = srv_queue_pop(&session->out);
        if (!frame)
            return 0;
        int n =
            lws_write(wsi, frame->buf + LWS_PRE, frame->len, LWS_WRITE_TEXT);
        free(frame);
        if (session->out.head)
            lws_callback_on_writable(wsi);
        return n < 0 ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED:
        srv_queue_clear(&session->out);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
