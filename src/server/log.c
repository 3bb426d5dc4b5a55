/* Text and JSON log lines; see log.h. */
#include "server/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "server/clock.h"
#include "server/isotime.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void srv_log_init(srv_log *l, FILE *out, bool json, srv_log_level min)
{
    l->out = out;
    l->json = json;
    l->min = min;
}

/* A string bare when it is one plain word, else JSON-quoted. */
static void print_text_value(FILE *out, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        bool plain = *s != '\0';
        for (const char *p = s; *p && plain; p++)
            plain = (unsigned char)*p > 0x20 && *p != '"' && *p != '=' && *p != 0x7f;
        if (plain) {
            fputs(s, out);
            return;
        }
    }
    char *text = cJSON_PrintUnformatted(v);
    if (text) {
        fputs(text, out);
        cJSON_free(text);
    }
}

/* The text form of one line, into out. */
static void format_text(FILE *out, const char *ts, srv_log_level level, const char *event,
                        const cJSON *fields)
{
    fprintf(out, "%s %-5s %s", ts, level_names[level], event);
    for (const cJSON *f = fields ? fields->child : NULL; f; f = f->next) {
        fprintf(out, " %s=", f->string);
        print_text_value(out, f);
    }
    fputc('\n', out);
}

/* The JSON form of one line, into out. */
static void format_json(FILE *out, const char *ts, srv_log_level level, const char *event,
                        const cJSON *fields)
{
    cJSON *o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "ts", ts) &&
        cJSON_AddStringToObject(o, "level", level_names[level]) &&
        cJSON_AddStringToObject(o, "event", event)) {
        for (const cJSON *f = fields ? fields->child : NULL; f; f = f->next)
            cJSON_AddItemToObject(o, f->string, cJSON_Duplicate(f, true));
        char *text = cJSON_PrintUnformatted(o);
        if (text) {
            fprintf(out, "%s\n", text);
            cJSON_free(text);
        }
    }
    cJSON_Delete(o);
}

void srv_log_emit(const srv_log *l, srv_log_level level, const char *event, cJSON *fields)
{
    if (level < l->min || !l->out) {
        cJSON_Delete(fields);
        return;
    }
    char ts[SRV_ISO_LEN];
    srv_iso8601(srv_clock_wall_ms(), ts, sizeof(ts));
    /* build the line in memory, then write it with one call: lines from
     * this process never interleave */
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (mem) {
        if (l->json)
            format_json(mem, ts, level, event, fields);
        else
            format_text(mem, ts, level, event, fields);
        fclose(mem);
        fwrite(line, 1, len, l->out);
        fflush(l->out);
        free(line);
    }
    cJSON_Delete(fields);
}

void srv_log_msg(const srv_log *l, srv_log_level level, const char *event, const char *fmt, ...)
{
    if (level < l->min)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    cJSON *f = cJSON_CreateObject();
    if (f)
        cJSON_AddStringToObject(f, "message", buf);
    srv_log_emit(l, level, event, f);
}
