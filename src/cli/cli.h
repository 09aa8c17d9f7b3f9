/* Subcommands of the stemdesk binary. Each takes the arguments after its
 * name and returns the process exit status: 0 success, 1 failure, 2 bad
 * usage. */
#ifndef STEMDESK_CLI_H
#define STEMDESK_CLI_H

int cmd_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_kb(int argc, char **argv);
int cmd_nlu_eval(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_conversation(int argc, char **argv);

#endif
