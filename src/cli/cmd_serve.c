#include <stdio.h>

#include "cli/cli.h"
#include "common/config.h"
#include "server/server.h"

int cmd_serve(int argc, char **argv)
{
    cfg_t cfg;
    cfg_defaults(&cfg);
    const char *bench_echo = NULL;
    const cli_flag_t flags[] = {
        {"bench-echo", NULL,
         "also serve a bare echo WebSocket at /bench-echo, the baseline of "
         "the server benchmark; not for production",
         &bench_echo},
    };
    const char *positional[1];
    size_t positional_count;
    int rc = cli_parse(&cfg, "serve",
                       "usage: stemdesk serve [OPTIONS]\n\n"
                       "Runs the desk: the widget pages, the visitor socket "
                       "/chat, the advisor\nconsole, /healthz and /metrics. "
                       "SIGHUP reloads the content; SIGINT or\nSIGTERM stop "
                       "the server cleanly.",
                       argc, argv, flags, sizeof flags / sizeof *flags,
                       positional, 0, &positional_count);
    if (rc) {
        cfg_free(&cfg);
        return rc == 1 ? 0 : rc;
    }

    srv_options_t options = {.bench_echo = bench_echo != NULL};
    rc = srv_run(&cfg, &options);
    cfg_free(&cfg);
    return rc;
}
