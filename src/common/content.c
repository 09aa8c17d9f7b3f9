#include "common/content.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

void content_errors_add(content_errors_t *errs, const char *file, int line,
                        int column, const char *hint, const char *fmt, ...)
{
    if (errs->count == errs->capacity) {
        size_t cap = errs->capacity ? errs->capacity * 2 : 8;
        content_error_t *grown = realloc(errs->items, cap * sizeof *grown);
        if (!grown)
            return;
        errs->items = grown;
        errs->capacity = cap;
    }
    content_error_t *e = &errs->items[errs->count++];
    copy_text(e->file, sizeof e->file, file);
    e->line = line;
    e->column = column;
    copy_text(e->hint, sizeof e->hint, hint);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void content_errors_print(const content_errors_t *errs, FILE *out)
{
    for (size_t i = 0; i < errs->count; i++) {
        const content_error_t *e = &errs->items[i];
        if (e->line > 0)
            fprintf(out, "%s:%d:%d: error: %s\n", e->file, e->line, e->column,
                    e->message);
        else
            fprintf(out, "%s: error: %s\n", e->file, e->message);
        if (e->hint[0])
            fprintf(out, "    hint: %s\n", e->hint);
    }
}

void content_errors_free(content_errors_t *errs)
{
    if (!errs)
        return;
    free(errs->items);
    errs->items = NULL;
    errs->count = errs->capacity = 0;
}

int content_file_load(const char *path, content_file_t *out,
                      content_errors_t *errs)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        content_errors_add(errs, path, 0, 0,
                           "check the path and the file's permissions",
                           "cannot open file: %s", strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    size_t n;
    while (text && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *grown = realloc(text, cap * 2);
            if (!grown) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!text) {
        content_errors_add(errs, path, 0, 0, NULL, "out of memory");
        return -1;
    }
    text[len] = '\0';

    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        content_errors_add(errs, path, jerr.line, jerr.column,
                           "fix the JSON syntax at this position",
                           "invalid JSON: %s", jerr.text);
        free(text);
        return -1;
    }
    out->path = strdup(path);
    out->text = text;
    out->root = root;
    return 0;
}

void content_file_free(content_file_t *file)
{
    if (!file)
        return;
    json_decref(file->root);
    free(file->text);
    free(file->path);
    memset(file, 0, sizeof *file);
}

/* A cursor over JSON text used only to find positions; the text is already
 * known to be valid JSON, so the scanner does not validate. */
typedef struct {
    const char *p;
} scan_t;

static void skip_space(scan_t *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
        s->p++;
}

static void skip_string(scan_t *s)
{
    s->p++; /* opening quote */
    while (*s->p && *s->p != '"') {
        if (*s->p == '\\' && s->p[1])
            s->p++;
        s->p++;
    }
    if (*s->p == '"')
        s->p++;
}

static void skip_value(scan_t *s)
{
    skip_space(s);
    if (*s->p == '"') {
        skip_string(s);
        return;
    }
    if (*s->p == '{' || *s->p == '[') {
        int depth = 0;
        do {
            if (*s->p == '"') {
                skip_string(s);
                continue;
            }
            if (*s->p == '{' || *s->p == '[')
                depth++;
            else if (*s->p == '}' || *s->p == ']')
                depth--;
            s->p++;
        } while (*s->p && depth > 0);
        return;
    }
    while (*s->p && !strchr(",}] \t\r\n", *s->p))
        s->p++;
}

/* Moves the cursor from the start of an object to the value of `key`. */
static int enter_key(scan_t *s, const char *key, size_t key_len)
{
    skip_space(s);
    if (*s->p != '{')
        return -1;
    s->p++;
    for (;;) {
        skip_space(s);
        if (*s->p != '"')
            return -1;
        const char *start = s->p + 1;
        skip_string(s);
        size_t len = (size_t)(s->p - start - 1);
        skip_space(s);
        if (*s->p != ':')
            return -1;
        s->p++;
        skip_space(s);
        if (len == key_len && memcmp(start, key, len) == 0)
            return 0;
        skip_value(s);
        skip_space(s);
        if (*s->p != ',')
            return -1;
        s->p++;
    }
}

static int enter_index(scan_t *s, long index)
{
    skip_space(s);
    if (*s->p != '[')
        return -1;
    s->p++;
    for (long i = 0; i < index; i++) {
        skip_value(s);
        skip_space(s);
        if (*s->p != ',')
            return -1;
        s->p++;
    }
    skip_space(s);
    return *s->p == ']' ? -1 : 0;
}

void content_locate(const content_file_t *file, const char *pointer, int *line,
                    int *column)
{
    scan_t s = {file->text ? file->text : ""};
    const char *found = s.p;
    const char *seg = pointer ? pointer : "";

    skip_space(&s);
    found = s.p;
    while (*seg == '/') {
        seg++;
        size_t len = strcspn(seg, "/");
        int rc;
        skip_space(&s);
        if (*s.p == '[') {
            char digits[24];
            copy_text(digits, len < sizeof digits ? len + 1 : sizeof digits,
                      seg);
            rc = enter_index(&s, strtol(digits, NULL, 10));
        } else {
            rc = enter_key(&s, seg, len);
        }
        if (rc != 0)
            break;
        skip_space(&s);
        found = s.p;
        seg += len;
    }

    int ln = 1, col = 1;
    for (const char *c = file->text; c && c < found; c++) {
        if (*c == '\n') {
            ln++;
            col = 1;
        } else if (((unsigned char)*c & 0xC0) != 0x80) {
            col++; /* count characters, not UTF-8 continuation bytes */
        }
    }
    *line = ln;
    *column = col;
}

void content_error_at(content_errors_t *errs, const content_file_t *file,
                      const char *pointer, const char *hint, const char *fmt,
                      ...)
{
    int line, column;
    content_locate(file, pointer, &line, &column);
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    content_errors_add(errs, file->path, line, column, hint, "%s", message);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int content_list_json(const char *dir, char ***paths, size_t *count,
                      content_errors_t *errs)
{
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        content_errors_add(errs, dir, 0, 0,
                           "pass an existing folder or fix its permissions",
                           "cannot open folder: %s", strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (ent->d_name[0] == '.' || len < 6 ||
            strcmp(ent->d_name + len - 5, ".json") != 0)
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(*paths, cap * sizeof *grown);
            if (!grown)
                break;
            *paths = grown;
        }
        size_t size = strlen(dir) + len + 2;
        char *full = malloc(size);
        if (!full)
            break;
        snprintf(full, size, "%s/%s", dir, ent->d_name);
        (*paths)[(*count)++] = full;
    }
    closedir(d);
    if (*count > 1)
        qsort(*paths, *count, sizeof **paths, compare_names);
    return 0;
}

void content_list_free(char **paths, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(paths[i]);
    free(paths);
}
