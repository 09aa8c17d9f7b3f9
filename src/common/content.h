/* Content files that editors own (dialogs/, intents/, kb/, lang/): loading
 * JSON with positions, and errors that carry file, line, column, what is
 * wrong and what to write instead. */
#ifndef STEMDESK_CONTENT_H
#define STEMDESK_CONTENT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

typedef struct {
    char file[256];
    int line;   /* 1-based; 0 when the error concerns the whole file */
    int column; /* 1-based; 0 when unknown */
    char message[256];
    char hint[256]; /* what to write instead; may be empty */
} content_error_t;

typedef struct {
    content_error_t *items;
    size_t count;
    size_t capacity;
} content_errors_t;

/* Appends one error; the list owns its copies. Never fails loudly: when
 * memory runs out the error is dropped and `count` stops growing. */
void content_errors_add(content_errors_t *errs, const char *file, int line,
                        int column, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Writes "file:line:column: error: message" and an indented hint line. */
void content_errors_print(const content_errors_t *errs, FILE *out);

/* Frees the items; accepts an empty or zeroed list. */
void content_errors_free(content_errors_t *errs);

/* A parsed JSON file that keeps its text, so values can be located. */
typedef struct {
    char *path;
    char *text;
    json_t *root;
} content_file_t;

/* Reads and parses `path`. On failure adds an error (with jansson's line and
 * column for syntax errors) and returns -1; `out` is then empty. The caller
 * frees a loaded file with content_file_free(). */
int content_file_load(const char *path, content_file_t *out,
                      content_errors_t *errs);
void content_file_free(content_file_t *file);

/* Finds the line and column of the value at a JSON Pointer such as
 * "/nodes/3/prompt". Falls back to the deepest part of the path that exists,
 * and to 1:1 when the text cannot be followed. */
void content_locate(const content_file_t *file, const char *pointer, int *line,
                    int *column);

/* Adds an error located at the value behind `pointer` in `file`. */
void content_error_at(content_errors_t *errs, const content_file_t *file,
                      const char *pointer, const char *hint, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));

/* Lists the *.json files directly in `dir`, sorted by name. The caller frees
 * each string and the array. Returns -1 and adds an error when the folder
 * cannot be read. */
int content_list_json(const char *dir, char ***paths, size_t *count,
                      content_errors_t *errs);
void content_list_free(char **paths, size_t count);

#endif
