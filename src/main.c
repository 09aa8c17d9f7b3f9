/* stemdesk: the first-line chat desk of a STEM hub for companies. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"serve", cmd_serve, "run the desk: widget, visitor socket, console"},
    {"check", cmd_check, "validate every dialogue, intent and kb file"},
    {"chat", cmd_chat, "talk to the bot in this terminal"},
    {"kb", cmd_kb, "search the knowledge base"},
    {"nlu-eval", cmd_nlu_eval, "score intents and entities on a test file"},
    {"user", cmd_user, "add, list or remove advisor and editor accounts"},
    {"conversation", cmd_conversation,
     "export, erase or purge stored conversations"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: stemdesk COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'stemdesk COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);

    fprintf(stderr, "stemdesk: unknown command \"%s\"\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
