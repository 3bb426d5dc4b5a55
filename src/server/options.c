/* Command-line parsing for lifeline-server: a table of options, strict
 * number parsing, and cross-option checks. See options.h. */
#include "server/cluster_wire.h"
#include "server/options.h"

#include "server/delivery.h"
#include "server/drain.h"
#include "server/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_kind {
    OPT_STR,
    OPT_I64,
    OPT_PORT,
    OPT_FLAG,
    OPT_MODE,
    OPT_LEVEL,
    OPT_RATE, /* MESSAGES[/s][:BYTES[/s]] into an srv_rl_cfg */
} opt_kind;

typedef struct opt_spec {
    const char *name; /* without the leading "--" */
    opt_kind kind;
    size_t offset;    /* of the field in srv_opts */
    int64_t min, max; /* for numbers */
    const char *help;
} opt_spec;

#define FIELD(f) offsetof(srv_opts, f)
#define DAY_MS (24LL * 3600 * 1000)

static const opt_spec specs[] = {
    {"host", OPT_STR, FIELD(host), 0, 0,
     "address to listen on (default " SRV_OPTS_DEFAULT_HOST ")"},
    {"port", OPT_PORT, FIELD(port), 0, 65535,
     "TCP port; 0 picks a free one (default 8080)"},
    {"ping-interval-ms", OPT_I64, FIELD(ping_interval_ms), 10, DAY_MS,
     "server ping cadence (default 30000)"},
    {"ping-timeout-ms", OPT_I64, FIELD(ping_timeout_ms), 10, DAY_MS,
     "close a connection whose pong is this late (default 10000)"},
    {"db", OPT_STR, FIELD(db_path), 0, 0,
     "SQLite file for last_active_at (default ./" SRV_OPTS_DEFAULT_DB ")"},
    {"max-users", OPT_I64, FIELD(max_users), 1, 1000000000,
     "users kept in the database; the least recently active go first (default 100000)"},
    {"auth-secret", OPT_STR, FIELD(auth_secret), 0, 0,
     "HMAC secret: connections then need ?token= (default: none)"},
    {"admin-token", OPT_STR, FIELD(admin_token), 0, 0,
     "bearer token for admin routes (default: loopback only)"},
    {"max-message-bytes", OPT_I64, FIELD(max_message_bytes), 16, 256LL << 20,
     "largest message or request body (default 1048576)"},
    {"tls-cert", OPT_STR, FIELD(tls_cert), 0, 0, "PEM certificate: serve wss/https"},
    {"tls-key", OPT_STR, FIELD(tls_key), 0, 0, "PEM private key for --tls-cert"},
    {"down-after-ms", OPT_I64, FIELD(down_after_ms), 1, 365 * DAY_MS,
     "no clients this long is a status change (default 60000)"},
    {"drain-window-ms", OPT_I64, FIELD(drain_window_ms), 0, SRV_DRAIN_MAX_WINDOW_MS,
     "on SIGTERM, close the connections (1012) spread over this long; 0: all at once\n"
     "      (default 10000)"},
    {"replay-ms", OPT_I64, FIELD(replay_ms), 0, 7 * DAY_MS,
     "lifeline.v1: keep messages sent to a session at least this long for its resume\n"
     "      (default 120000)"},
    {"replay-max", OPT_I64, FIELD(replay_max), 1, 100000000,
     "lifeline.v1: but at most this many per session (default 10000)"},
    {"replay-max-bytes", OPT_I64, FIELD(replay_max_bytes), 1024, 1LL << 40,
     "lifeline.v1: and at most this many bytes of them per session (default 16777216)"},
    {"ack-every", OPT_I64, FIELD(ack_every), 1, 1000000,
     "lifeline.v1: acknowledge after this many messages (default 32)"},
    {"ack-delay-ms", OPT_I64, FIELD(ack_delay_ms), 0, 60000,
     "lifeline.v1: or this long after the first unacknowledged one (default 20)"},
    {"max-sessions", OPT_I64, FIELD(max_sessions), 1, SRV_DLV_MAX_SESSIONS_MAX,
     "lifeline.v1: sessions kept without a connection, and high-water marks kept in\n"
     "      the database; the least recently used go first (default 10000)"},
    {"journal", OPT_FLAG, FIELD(journal), 0, 0,
     "lifeline.v1: keep every accepted client message in the database's journal table"},
    {"redis", OPT_STR, FIELD(redis_url), 0, 0,
     "redis://host[:port][/db] or unix:/path: share store fan-out and presence with the\n"
     "      other instances that use it (default: none, this instance alone)"},
    {"instance", OPT_STR, FIELD(instance), 0, 0,
     "this instance's id in the cluster, 1-64 of A-Z a-z 0-9 . _ : - (default: host\n"
     "      name:port)"},
    {"metrics-max-stores", OPT_I64, FIELD(metrics_max_stores), 0, SRV_METRICS_MAX_STORES_MAX,
     "GET /metrics: a series for each of the stores with the most connections, at most\n"
     "      this many; the others are summed (default 100)"},
    {"rate-limit", OPT_RATE, FIELD(rate_limit), 0, 0,
     "MESSAGES[/s][:BYTES[/s]]: each connection may send this many messages (and\n"
     "      bytes) a second; plain connections' messages over it are dropped,\n"
     "      lifeline.v1 connections are read more slowly (default: no limit)"},
    {"rate-limit-burst-ms", OPT_I64, FIELD(rate_limit.burst_ms), 1, SRV_RL_BURST_MS_MAX,
     "with --rate-limit: a connection may send this long's worth at once (default 1000)"},
    {"rate-limit-close-ms", OPT_I64, FIELD(rate_limit.close_after_ms), 0,
     SRV_RL_CLOSE_AFTER_MS_MAX,
     "with --rate-limit: close a plain connection over the limit this long, with\n"
     "      1008 (0: never; default 5000)"},
    {"json", OPT_FLAG, FIELD(json_logs), 0, 0, "log JSON lines instead of text"},
    {"log-level", OPT_LEVEL, FIELD(log_level), 0, 0,
     "error, warn, info or debug: the least severe lines logged (default info, which\n"
     "      has a line for each WebSocket connection opened, closed or refused; debug\n"
     "      adds one for each HTTP request)"},
    {"make-token", OPT_MODE, FIELD(mode), SRV_MODE_MAKE_TOKEN, 0,
     "print a token for --user/--store/--ttl signed with --auth-secret"},
    {"user", OPT_STR, FIELD(token_user), 0, 0, "with --make-token: the user"},
    {"store", OPT_STR, FIELD(token_store), 0, 0, "with --make-token: the store"},
    {"ttl", OPT_I64, FIELD(token_ttl_s), 1, 10LL * 365 * 24 * 3600,
     "with --make-token: lifetime in seconds (default 3600)"},
    {"help", OPT_MODE, FIELD(mode), SRV_MODE_HELP, 0, "print this help"},
    {"version", OPT_MODE, FIELD(mode), SRV_MODE_VERSION, 0, "print the version"},
};

void srv_opts_init(srv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->mode = SRV_MODE_SERVE;
    o->host = SRV_OPTS_DEFAULT_HOST;
    o->port = SRV_OPTS_DEFAULT_PORT;
    o->ping_interval_ms = SRV_OPTS_DEFAULT_PING_INTERVAL_MS;
    o->ping_timeout_ms = SRV_OPTS_DEFAULT_PING_TIMEOUT_MS;
    o->db_path = SRV_OPTS_DEFAULT_DB;
    o->max_users = SRV_OPTS_DEFAULT_MAX_USERS;
    o->max_message_bytes = SRV_OPTS_DEFAULT_MAX_MESSAGE_BYTES;
    o->down_after_ms = SRV_OPTS_DEFAULT_DOWN_AFTER_MS;
    o->drain_window_ms = SRV_DRAIN_DEFAULT_WINDOW_MS;
    o->token_ttl_s = SRV_OPTS_DEFAULT_TTL_S;
    o->replay_ms = SRV_DLV_DEFAULT_REPLAY_MS;
    o->replay_max = SRV_DLV_DEFAULT_REPLAY_MAX;
    o->replay_max_bytes = SRV_DLV_DEFAULT_REPLAY_MAX_BYTES;
    o->ack_every = SRV_DLV_DEFAULT_ACK_EVERY;
    o->ack_delay_ms = SRV_DLV_DEFAULT_ACK_DELAY_MS;
    o->max_sessions = SRV_DLV_DEFAULT_MAX_SESSIONS;
    o->metrics_max_stores = SRV_METRICS_DEFAULT_MAX_STORES;
    srv_rl_cfg_init(&o->rate_limit);
    o->log_level = SRV_LOG_INFO;
}

/* --log-level's values, by srv_log_level */
static const char *const level_names[] = {
    [SRV_LOG_DEBUG] = "debug", [SRV_LOG_INFO] = "info", [SRV_LOG_WARN] = "warn",
    [SRV_LOG_ERROR] = "error"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const opt_spec *find_spec(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
        if (strlen(specs[i].name) == len && !memcmp(specs[i].name, name, len))
            return &specs[i];
    return NULL;
}

/* s[0..len): a whole decimal number in 1..max, optionally followed by
 * "/s". Returns 0 with *out, or -1. */
static int parse_rate(const char *s, size_t len, int64_t max, int64_t *out)
{
    if (len >= 2 && s[len - 2] == '/' && s[len - 1] == 's')
        len -= 2;
    if (!len)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
        if (v > max)
            return -1;
    }
    if (v < 1)
        return -1;
    *out = v;
    return 0;
}

/* A whole decimal integer in [min, max], nothing else. */
static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!*s || (*s != '-' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int apply(srv_opts *o, const opt_spec *sp, const char *value, char *err,
                 size_t errlen)
{
    char *field = (char *)o + sp->offset;
    int64_t v = 0;
    switch (sp->kind) {
    case OPT_STR:
        if (!*value)
            return fail(err, errlen, "--%s: the value must not be empty", sp->name);
        *(const char **)(void *)field = value;
        return 0;
    case OPT_I64:
    case OPT_PORT:
        if (parse_i64(value, sp->min, sp->max, &v))
            return fail(err, errlen, "--%s: expected an integer in %lld..%lld, got '%s'",
                        sp->name, (long long)sp->min, (long long)sp->max, value);
        if (sp->kind == OPT_PORT)
            *(int *)(void *)field = (int)v;
        else
            *(int64_t *)(void *)field = v;
        return 0;
    case OPT_FLAG:
        *(bool *)(void *)field = true;
        return 0;
    case OPT_MODE:
        *(srv_opts_mode *)(void *)field = (srv_opts_mode)sp->min;
        return 0;
    case OPT_LEVEL:
        for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
            if (!strcmp(value, level_names[i])) {
                *(srv_log_level *)(void *)field = (srv_log_level)i;
                return 0;
            }
        return fail(err, errlen, "--%s: expected error, warn, info or debug, got '%s'", sp->name,
                    value);
    case OPT_RATE: {
        srv_rl_cfg *rl = (srv_rl_cfg *)(void *)field;
        const char *colon = strchr(value, ':');
        size_t mlen = colon ? (size_t)(colon - value) : strlen(value);
        int64_t msgs = 0, bytes = 0;
        if (parse_rate(value, mlen, SRV_RL_MSGS_MAX, &msgs) ||
            (colon && parse_rate(colon + 1, strlen(colon + 1), SRV_RL_BYTES_MAX, &bytes)))
            return fail(err, errlen,
                        "--%s: expected MESSAGES[/s][:BYTES[/s]] a second, MESSAGES in 1..%d "
                        "and BYTES in 1..%lld, got '%s'",
                        sp->name, SRV_RL_MSGS_MAX, (long long)SRV_RL_BYTES_MAX, value);
        rl->msgs_per_s = msgs;
        rl->bytes_per_s = bytes;
        return 0;
    }
    }
    return fail(err, errlen, "--%s: unsupported", sp->name);
}

static int check(const srv_opts *o, char *err, size_t errlen)
{
    if (o->mode == SRV_MODE_HELP || o->mode == SRV_MODE_VERSION)
        return 0;
    if (o->mode == SRV_MODE_MAKE_TOKEN) {
        if (!o->auth_secret)
            return fail(err, errlen, "--make-token: needs --auth-secret");
        if (!o->token_user)
            return fail(err, errlen, "--make-token: needs --user");
        if (!o->token_store)
            return fail(err, errlen, "--make-token: needs --store");
        return 0;
    }
    if (o->token_user)
        return fail(err, errlen, "--user: only valid with --make-token");
    if (o->token_store)
        return fail(err, errlen, "--store: only valid with --make-token");
    if (o->tls_cert && !o->tls_key)
        return fail(err, errlen, "--tls-key: required with --tls-cert");
    if (o->tls_key && !o->tls_cert)
        return fail(err, errlen, "--tls-cert: required with --tls-key");
    if (o->redis_url) {
        srv_redis_addr a;
        char why[200];
        if (srv_redis_url_parse(o->redis_url, &a, why, sizeof(why)))
            return fail(err, errlen, "--redis: %s", why);
    }
    if (o->instance && !o->redis_url)
        return fail(err, errlen, "--instance: only valid with --redis");
    if (o->instance && !srv_cluster_id_valid(o->instance))
        return fail(err, errlen,
                    "--instance: expected 1-64 of A-Z a-z 0-9 . _ : -, got '%s'", o->instance);
    if (!srv_rl_enabled(&o->rate_limit)) {
        if (o->rate_limit.burst_ms != SRV_RL_DEFAULT_BURST_MS)
            return fail(err, errlen, "--rate-limit-burst-ms: only valid with --rate-limit");
        if (o->rate_limit.close_after_ms != SRV_RL_DEFAULT_CLOSE_AFTER_MS)
            return fail(err, errlen, "--rate-limit-close-ms: only valid with --rate-limit");
    }
    return 0;
}

int srv_opts_parse(srv_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) || !arg[2])
            return fail(err, errlen, "unexpected argument '%s'", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const opt_spec *sp = find_spec(name, len);
        if (!sp)
            return fail(err, errlen, "--%.*s: unknown option", (int)len, name);
        const char *value = NULL;
        if (sp->kind == OPT_FLAG || sp->kind == OPT_MODE) {
            if (eq)
                return fail(err, errlen, "--%s: takes no value", sp->name);
        } else if (eq) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return fail(err, errlen, "--%s: missing value", sp->name);
            value = argv[++i];
        }
        if (apply(o, sp, value, err, errlen))
            return -1;
    }
    return check(o, err, errlen);
}

void srv_opts_usage(FILE *out)
{
    fprintf(out, "usage: lifeline-server [options]\n"
                 "       lifeline-server --make-token --user U --store S "
                 "[--ttl SECONDS] --auth-secret SECRET\n\noptions:\n");
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        const opt_spec *sp = &specs[i];
        int takes = sp->kind != OPT_FLAG && sp->kind != OPT_MODE;
        fprintf(out, "  --%s%s\n      %s\n", sp->name, takes ? " VALUE" : "", sp->help);
    }
}
