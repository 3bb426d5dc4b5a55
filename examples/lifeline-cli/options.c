/* Command-line parsing for lifeline-cli. Every default comes from
 * lifeline_config_init(); every configuration check is the library's
 * lifeline_config_check(), and its error is reported against the option of
 * the field it names. The names of enum values (--jitter-mode,
 * --queue-policy, --log-level, --durability) are the library's too, with
 * '-' for '_'. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum opt_id {
    OPT_URL = 1, /* the positional argument, for error messages */
    OPT_FALLBACK_URL = 2, /* the positional arguments after it */
    OPT_FIRST = 256,
    OPT_BASE_DELAY = OPT_FIRST,
    OPT_MAX_DELAY,
    OPT_JITTER,
    OPT_JITTER_MODE,
    OPT_MAX_ATTEMPTS,
    OPT_STABLE_AFTER,
    OPT_DOWN_PING_INTERVAL,
    OPT_HEALTH_URL,
    OPT_CONNECT_TIMEOUT,
    OPT_PING_INTERVAL,
    OPT_PING_TIMEOUT,
    OPT_RTT_GOOD,
    OPT_RTT_POOR,
    OPT_SEED,
    OPT_HEADER,
    OPT_SUBPROTOCOL,
    OPT_ORIGIN,
    OPT_DEFLATE,
    OPT_PROXY,
    OPT_CA_FILE,
    OPT_INSECURE,
    OPT_APP_PING,
    OPT_NO_WATCH_NETWORK,
    OPT_MAX_MESSAGE_BYTES,
    OPT_QUEUE_POLICY,
    OPT_QUEUE_MAX,
    OPT_QUEUE_MAX_BYTES,
    OPT_JSON,
    OPT_MESSAGES_ONLY,
    OPT_VERBOSE,
    OPT_LOG_LEVEL,
    OPT_PRINT_CONFIG,
    OPT_EXIT_ON_SERVER_DOWN,
    OPT_DISCORD_WEBHOOK,
    OPT_ALERT_LABEL,
    OPT_ALERT_MIN_INTERVAL,
    OPT_RELIABLE,
    OPT_OUTBOX,
    OPT_DURABILITY,
    OPT_ACK_EVERY,
    OPT_ACK_DELAY,
    OPT_HELP,
    OPT_VERSION
};

static const struct option long_opts[] = {
    {"base-delay-ms", required_argument, NULL, OPT_BASE_DELAY},
    {"max-delay-ms", required_argument, NULL, OPT_MAX_DELAY},
    {"jitter-ms", required_argument, NULL, OPT_JITTER},
    {"jitter-mode", required_argument, NULL, OPT_JITTER_MODE},
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
    {"stable-after-ms", required_argument, NULL, OPT_STABLE_AFTER},
    {"down-ping-interval-ms", required_argument, NULL, OPT_DOWN_PING_INTERVAL},
    {"health-url", required_argument, NULL, OPT_HEALTH_URL},
    {"connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"ping-interval-ms", required_argument, NULL, OPT_PING_INTERVAL},
    {"ping-timeout-ms", required_argument, NULL, OPT_PING_TIMEOUT},
    {"rtt-good-ms", required_argument, NULL, OPT_RTT_GOOD},
    {"rtt-poor-ms", required_argument, NULL, OPT_RTT_POOR},
    {"seed", required_argument, NULL, OPT_SEED},
    {"header", required_argument, NULL, OPT_HEADER},
    {"subprotocol", required_argument, NULL, OPT_SUBPROTOCOL},
    {"origin", required_argument, NULL, OPT_ORIGIN},
    {"deflate", no_argument, NULL, OPT_DEFLATE},
    {"proxy", required_argument, NULL, OPT_PROXY},
    {"ca-file", required_argument, NULL, OPT_CA_FILE},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"discord-webhook", required_argument, NULL, OPT_DISCORD_WEBHOOK},
    {"alert-label", required_argument, NULL, OPT_ALERT_LABEL},
    {"alert-min-interval-ms", required_argument, NULL, OPT_ALERT_MIN_INTERVAL},
    {"app-ping", no_argument, NULL, OPT_APP_PING},
    {"no-watch-network", no_argument, NULL, OPT_NO_WATCH_NETWORK},
    {"max-message-bytes", required_argument, NULL, OPT_MAX_MESSAGE_BYTES},
    {"queue-policy", required_argument, NULL, OPT_QUEUE_POLICY},
    {"queue-max", required_argument, NULL, OPT_QUEUE_MAX},
    {"queue-max-bytes", required_argument, NULL, OPT_QUEUE_MAX_BYTES},
    {"reliable", no_argument, NULL, OPT_RELIABLE},
    {"outbox", required_argument, NULL, OPT_OUTBOX},
    {"durability", required_argument, NULL, OPT_DURABILITY},
    {"ack-every", required_argument, NULL, OPT_ACK_EVERY},
    {"ack-delay-ms", required_argument, NULL, OPT_ACK_DELAY},
    {"json", no_argument, NULL, OPT_JSON},
    {"messages-only", no_argument, NULL, OPT_MESSAGES_ONLY},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
    {"exit-on-server-down", no_argument, NULL, OPT_EXIT_ON_SERVER_DOWN},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Short forms, mapped onto the long ones. */
static const char short_opts[] = ":H:mvhV";

/* The int and size_t fields of lifeline_config each option sets. */
static const struct {
    int id;
    size_t offset;
} int_fields[] = {
    {OPT_BASE_DELAY, offsetof(lifeline_config, base_delay_ms)},
    {OPT_MAX_DELAY, offsetof(lifeline_config, max_delay_ms)},
    {OPT_JITTER, offsetof(lifeline_config, jitter_ms)},
    {OPT_MAX_ATTEMPTS, offsetof(lifeline_config, max_attempts)},
    {OPT_STABLE_AFTER, offsetof(lifeline_config, stable_after_ms)},
    {OPT_DOWN_PING_INTERVAL, offsetof(lifeline_config, down_ping_interval_ms)},
    {OPT_CONNECT_TIMEOUT, offsetof(lifeline_config, connect_timeout_ms)},
    {OPT_PING_INTERVAL, offsetof(lifeline_config, ping_interval_ms)},
    {OPT_PING_TIMEOUT, offsetof(lifeline_config, ping_timeout_ms)},
    {OPT_RTT_GOOD, offsetof(lifeline_config, rtt_good_ms)},
    {OPT_RTT_POOR, offsetof(lifeline_config, rtt_poor_ms)},
    {OPT_ALERT_MIN_INTERVAL, offsetof(lifeline_config, alert_min_interval_ms)},
    {OPT_ACK_EVERY, offsetof(lifeline_config, ack_every)},
    {OPT_ACK_DELAY, offsetof(lifeline_config, ack_delay_ms)},
};

static const struct {
    int id;
    size_t offset;
} size_fields[] = {
    {OPT_MAX_MESSAGE_BYTES, offsetof(lifeline_config, max_message_bytes)},
    {OPT_QUEUE_MAX, offsetof(lifeline_config, queue_max_messages)},
    {OPT_QUEUE_MAX_BYTES, offsetof(lifeline_config, queue_max_bytes)},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The options of lifeline_config fields whose name is not the field's with
 * '-' for '_' (base_delay_ms is --base-delay-ms). */
static const struct {
    const char *field;
    int id;
} field_options[] = {
    {"url", OPT_URL},
    {"fallback_urls", OPT_FALLBACK_URL},
    {"random_seed", OPT_SEED},
    {"headers", OPT_HEADER},
    {"permessage_deflate", OPT_DEFLATE},
    {"http_proxy", OPT_PROXY},
    {"allow_insecure_tls", OPT_INSECURE},
    {"watch_network", OPT_NO_WATCH_NETWORK},
    {"queue_max_messages", OPT_QUEUE_MAX},
    {"discord_webhook_url", OPT_DISCORD_WEBHOOK},
    {"alert_labels", OPT_ALERT_LABEL},
    {"delivery", OPT_RELIABLE},
    {"outbox_path", OPT_OUTBOX},
    {"outbox_durability", OPT_DURABILITY},
};

/* What the URL is while --print-config checks a config that has none. */
static const char placeholder_url[] = "ws://localhost/";

const char *cli_spelling(const char *name, char *buf, size_t n)
{
    size_t i = 0;
    for (; n && name[i] && i < n - 1; i++)
        buf[i] = name[i] == '_' ? '-' : name[i];
    if (n)
        buf[i] = '\0';
    return buf;
}

/* A library name function (lifeline_queue_policy_name, ...) over its
 * values 0, 1, ...: the name of value, or NULL past the last. */
typedef const char *(*name_fn)(int value);

static const char *name_of(name_fn fn, int value)
{
    const char *name = value < 64 ? fn(value) : "unknown";
    return strcmp(name, "unknown") == 0 ? NULL : name;
}

/* "a, b or c": every value's name as the command line spells it. */
static const char *choices(name_fn fn, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int v = 0; name_of(fn, v) && len < n; v++) {
        char spelt[32];
        const char *sep = v == 0 ? "" : name_of(fn, v + 1) ? ", " : " or ";
        len += (size_t)snprintf(buf + len, n - len, "%s%s", sep,
                                cli_spelling(name_of(fn, v), spelt, sizeof(spelt)));
    }
    return buf;
}

static const char *opt_name(int id)
{
    if (id == OPT_URL || id == OPT_FALLBACK_URL)
        return "URL";
    for (const struct option *o = long_opts; o->name; o++)
        if (o->val == id)
            return o->name;
    return "?";
}

static int *int_field(lifeline_config *cfg, size_t offset)
{
    return (int *)(void *)((char *)cfg + offset);
}

static size_t *size_field(lifeline_config *cfg, size_t offset)
{
    return (size_t *)(void *)((char *)cfg + offset);
}

static void bad_value(int id, const char *value, const char *why)
{
    fprintf(stderr, "lifeline-cli: --%s: \"%s\" %s\n", opt_name(id), value, why);
}

static int parse_int(int id, const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0') {
        bad_value(id, s, "is not an integer");
        return -1;
    }
    if (errno == ERANGE || v < INT_MIN || v > INT_MAX) {
        bad_value(id, s, "is out of range");
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_u64(int id, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (strchr(s, '-')) {
        bad_value(id, s, "is not a non-negative integer");
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0') {
        bad_value(id, s, "is not a non-negative integer");
        return -1;
    }
    if (errno == ERANGE || v > max) {
        bad_value(id, s, "is out of range");
        return -1;
    }
    *out = v;
    return 0;
}

/* One of the values fn names, spelt with '-' (as --help shows them) or
 * with '_' (the library's own name). */
static int parse_name(int id, const char *s, name_fn fn, int *out)
{
    char spelt[32];
    for (int v = 0; name_of(fn, v); v++) {
        if (strcmp(s, name_of(fn, v)) == 0 ||
            strcmp(s, cli_spelling(name_of(fn, v), spelt, sizeof(spelt))) == 0) {
            *out = v;
            return 0;
        }
    }
    fprintf(stderr, "lifeline-cli: --%s: \"%s\" is not one of", opt_name(id), s);
    for (int v = 0; name_of(fn, v); v++)
        fprintf(stderr, "%s%s", v ? ", " : " ", cli_spelling(name_of(fn, v), spelt, sizeof(spelt)));
    fputc('\n', stderr);
    return -1;
}

/* Store one option's value. Returns 0, or -1 after reporting. */
static int apply(cli_options *o, int id, const char *arg)
{
    lifeline_config *cfg = &o->cfg;
    for (size_t i = 0; i < COUNT(int_fields); i++)
        if (int_fields[i].id == id)
            return parse_int(id, arg, int_field(cfg, int_fields[i].offset));
    for (size_t i = 0; i < COUNT(size_fields); i++) {
        if (size_fields[i].id == id) {
            uint64_t v;
            if (parse_u64(id, arg, SIZE_MAX, &v))
                return -1;
            *size_field(cfg, size_fields[i].offset) = (size_t)v;
            return 0;
        }
    }
    switch (id) {
    case OPT_JITTER_MODE:
        return parse_name(id, arg, lifeline_jitter_mode_name, &cfg->jitter_mode);
    case OPT_QUEUE_POLICY:
        return parse_name(id, arg, lifeline_queue_policy_name, &cfg->queue_policy);
    case OPT_LOG_LEVEL:
        o->verbose = 1;
        return parse_name(id, arg, lifeline_log_level_name, &cfg->log_level);
    case OPT_DURABILITY:
        return parse_name(id, arg, lifeline_durability_name, &cfg->outbox_durability);
    case OPT_SEED:
        return parse_u64(id, arg, UINT64_MAX, &cfg->random_seed);
    case OPT_HEALTH_URL: cfg->health_url = arg; return 0;
    case OPT_HEADER: o->headers[cfg->header_count++] = arg; return 0;
    case OPT_SUBPROTOCOL: cfg->subprotocol = arg; return 0;
    case OPT_ORIGIN: cfg->origin = arg; return 0;
    case OPT_PROXY: cfg->http_proxy = arg; return 0;
    case OPT_CA_FILE: cfg->ca_file = arg; return 0;
    case OPT_DEFLATE: cfg->permessage_deflate = 1; return 0;
    case OPT_INSECURE: cfg->allow_insecure_tls = 1; return 0;
    case OPT_DISCORD_WEBHOOK: cfg->discord_webhook_url = *arg ? arg : NULL; return 0;
    case OPT_ALERT_LABEL: o->labels[cfg->alert_label_count++] = arg; return 0;
    case OPT_APP_PING: cfg->app_ping = 1; return 0;
    case OPT_NO_WATCH_NETWORK: cfg->watch_network = 0; return 0;
    case OPT_RELIABLE: cfg->delivery = LIFELINE_DELIVERY_RELIABLE; return 0;
    /* an outbox is reliable delivery's: --outbox implies --reliable (the
     * library ignores outbox_path in best-effort mode) */
    case OPT_OUTBOX:
        cfg->outbox_path = arg;
        cfg->delivery = LIFELINE_DELIVERY_RELIABLE;
        return 0;
    case OPT_JSON: o->json = 1; return 0;
    case OPT_MESSAGES_ONLY: o->messages_only = 1; return 0;
    case OPT_VERBOSE: o->verbose = 1; return 0;
    case OPT_PRINT_CONFIG: o->print_config = 1; return 0;
    case OPT_EXIT_ON_SERVER_DOWN: o->exit_on_server_down = 1; return 0;
    default: return -1;
    }
}

/* The option that sets a lifeline_config field, or 0. */
static int option_of_field(const char *field)
{
    for (size_t i = 0; i < COUNT(field_options); i++)
        if (strcmp(field, field_options[i].field) == 0)
            return field_options[i].id;
    char name[64];
    cli_spelling(field, name, sizeof(name));
    for (const struct option *o = long_opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->val;
    return 0;
}

/* The option to blame for err, as the library's lifeline_config_check()
 * names the field (0: it names none, or finds another error); for --header,
 * *header_index is the bad one's number (1-based), for a fallback URL its
 * position among the URLs (2 for the second). */
static int culprit(const cli_options *o, int err, size_t *header_index)
{
    lifeline_config cfg = o->cfg;
    if (!cfg.url)
        cfg.url = placeholder_url;
    const char *field = NULL;
    if (lifeline_config_check(&cfg, &field) != err || !field)
        return 0;
    int id = option_of_field(field);
    if (id == OPT_HEADER) {
        /* check each header alone to find the bad one */
        for (size_t i = 0; i < o->cfg.header_count; i++) {
            cfg.headers = &o->cfg.headers[i];
            cfg.header_count = 1;
            if (lifeline_config_check(&cfg, NULL) == err) {
                *header_index = i + 1;
                break;
            }
        }
    }
    if (id == OPT_FALLBACK_URL) {
        /* the library names the field; each alone finds the bad one */
        cfg.headers = o->cfg.headers;
        cfg.header_count = o->cfg.header_count;
        for (size_t i = 0; i < o->cfg.fallback_url_count; i++) {
            cfg.fallback_urls = &o->cfg.fallback_urls[i];
            cfg.fallback_url_count = 1;
            if (lifeline_config_check(&cfg, NULL) == err) {
                *header_index = i + 2;
                break;
            }
        }
    }
    return id;
}

void cli_report_config_error(const cli_options *o, int err)
{
    size_t header_index = 0;
    int id = culprit(o, err, &header_index);
    if (id == OPT_URL)
        fprintf(stderr, "lifeline-cli: URL: %s\n", lifeline_strerror(err));
    else if (id == OPT_FALLBACK_URL && header_index)
        /* not echoed: it may carry a token */
        fprintf(stderr, "lifeline-cli: URL (number %zu): %s\n", header_index,
                lifeline_strerror(err));
    else if (id == OPT_FALLBACK_URL)
        fprintf(stderr, "lifeline-cli: URL: %s\n", lifeline_strerror(err));
    else if (id == OPT_HEADER && header_index)
        /* the header itself is not printed: it may carry a secret */
        fprintf(stderr, "lifeline-cli: --header (number %zu): %s\n", header_index,
                lifeline_strerror(err));
    else if (id)
        fprintf(stderr, "lifeline-cli: --%s: %s\n", opt_name(id), lifeline_strerror(err));
    else
        fprintf(stderr, "lifeline-cli: %s (%s)\n", lifeline_strerror(err),
                lifeline_error_name(err));
}

/* The text of the option getopt stopped at, without any "=value". */
static void report_getopt_error(int c, char **argv)
{
    const char *arg = argv[optind - 1];
    int len = (int)strcspn(arg, "=");
    if (c == ':') {
        if (optopt >= OPT_FIRST)
            fprintf(stderr, "lifeline-cli: --%s: needs a value\n", opt_name(optopt));
        else
            fprintf(stderr, "lifeline-cli: -%c: needs a value\n", optopt);
    } else if (optopt >= OPT_FIRST) {
        fprintf(stderr, "lifeline-cli: --%s: takes no value\n", opt_name(optopt));
    } else if (optopt) {
        fprintf(stderr, "lifeline-cli: -%c: unknown option\n", optopt);
    } else {
        fprintf(stderr, "lifeline-cli: %.*s: unknown or ambiguous option\n", len, arg);
    }
    fprintf(stderr, "Try 'lifeline-cli --help'.\n");
}

int cli_parse(cli_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    lifeline_config_init(&o->cfg);
    o->headers = calloc((size_t)argc + 1, sizeof(*o->headers));
    if (!o->headers) {
        fprintf(stderr, "lifeline-cli: out of memory\n");
        return CLI_FAIL;
    }
    o->cfg.headers = o->headers;
    o->labels = calloc((size_t)argc + 1, sizeof(*o->labels));
    if (!o->labels) {
        fprintf(stderr, "lifeline-cli: out of memory\n");
        return CLI_FAIL;
    }
    o->cfg.alert_labels = o->labels;
    o->fallbacks = calloc((size_t)argc + 1, sizeof(*o->fallbacks));
    if (!o->fallbacks) {
        fprintf(stderr, "lifeline-cli: out of memory\n");
        return CLI_FAIL;
    }
    o->cfg.fallback_urls = o->fallbacks;
    /* the webhook's default comes from the environment (the library reads
     * none); an empty --discord-webhook turns alerts off */
    const char *hook = getenv("DISCORD_WEBHOOK_URL");
    if (hook && *hook)
        o->cfg.discord_webhook_url = hook;

    int level_given = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        switch (c) {
        case 'H': c = OPT_HEADER; break;
        case 'm': c = OPT_MESSAGES_ONLY; break;
        case 'v': c = OPT_VERBOSE; break;
        case 'h': c = OPT_HELP; break;
        case 'V': c = OPT_VERSION; break;
        case '?':
        case ':':
            report_getopt_error(c, argv);
            return CLI_FAIL;
        default: break;
        }
        if (c == OPT_HELP)
            return CLI_HELP;
        if (c == OPT_VERSION)
            return CLI_VERSION;
        level_given |= c == OPT_LOG_LEVEL;
        if (apply(o, c, optarg))
            return CLI_FAIL;
    }
    if (o->verbose && !level_given)
        o->cfg.log_level = LIFELINE_LOG_DEBUG;

    if (optind < argc)
        o->cfg.url = argv[optind++];
    /* the URLs after the first are its fallbacks, tried in order */
    while (optind < argc)
        o->fallbacks[o->cfg.fallback_url_count++] = argv[optind++];
    if (!o->cfg.url && !o->print_config) {
        fprintf(stderr, "lifeline-cli: URL: missing (a ws:// or wss:// URL)\n"
                        "Try 'lifeline-cli --help'.\n");
        return CLI_FAIL;
    }

    /* --print-config without a URL still checks everything else */
    lifeline_config check = o->cfg;
    if (!check.url)
        check.url = placeholder_url;
    int err = lifeline_config_validate(&check);
    if (err) {
        cli_report_config_error(o, err);
        return CLI_FAIL;
    }
    return CLI_RUN;
}

void cli_usage(FILE *out)
{
    lifeline_config d;
    lifeline_config_init(&d);
    char jitter_modes[64], queue_policies[64], log_levels[64], policy[32], durabilities[64];
    fprintf(out,
        "Usage: lifeline-cli [options] URL [FALLBACK_URL...]\n"
        "\n"
        "Connect to the WebSocket URL (ws:// or wss://) and keep the connection\n"
        "alive with lifeline. URLs after the first are fallback servers (at most\n"
        "%d): after a failed attempt the next goes to the next URL, round the\n"
        "list; after a lost connection, to the same URL first; server_down when\n"
        "every URL has failed --max-attempts times (state events name the URL).\n"
        "Each line of stdin is sent as a text message (queued while offline).\n"
        "At the end of stdin, a connection under way is waited for\n"
        "until it opens or fails (at most --connect-timeout-ms plus\n"
        "--ping-timeout-ms); then the CLI closes gracefully, writing what is still\n"
        "queued first (at most --ping-timeout-ms, 2 s at least, for that and the\n"
        "server's answer to the close). With --reliable, it waits instead until the\n"
        "server has acknowledged every line, or the client gives up (error,\n"
        "server_down), or nothing progresses (no ack, resume or connection) for\n"
        "--connect-timeout-ms plus --ping-timeout-ms.\n"
        "Events (state changes, retries, messages, pongs, quality; acked and resumed\n"
        "with --reliable) go to stdout;\n"
        "with -m, stdout has the received messages alone and the events go to stderr.\n"
        "\n"
        "Reconnection:\n"
        "  --base-delay-ms N         first retry delay (default %d)\n"
        "  --max-delay-ms N          cap of the exponential delay (default %d)\n"
        "  --jitter-ms N             additive jitter range (default %d)\n"
        "  --jitter-mode MODE        %s (default %s)\n"
        "  --max-attempts N          retries before server_down (default %d)\n"
        "  --stable-after-ms N       uptime that resets the attempt count (default %d)\n"
        "  --down-ping-interval-ms N probe cadence in server_down (default %d)\n"
        "  --health-url URL          http(s) URL that must answer 2xx before a probe\n"
        "  --connect-timeout-ms N    limit of one attempt, handshake included (default %d)\n"
        "  --no-watch-network        do not watch the host's network (rtnetlink); by\n"
        "                            default a link up, an address or a default route\n"
        "                            added ends a reconnection wait at once. SIGUSR1\n"
        "                            does the same (lifeline_client_network_changed()),\n"
        "                            for a NetworkManager dispatcher script, say\n"
        "  --seed N                  jitter seed, to replay a run (default: random,\n"
        "                            which 0 asks for too; --print-config shows null)\n"
        "\n"
        "Heartbeat and quality:\n"
        "  --ping-interval-ms N      ping cadence while connected (default %d)\n"
        "  --ping-timeout-ms N       no pong within this drops the connection (default %d)\n"
        "  --rtt-good-ms N           smoothed RTT below this is excellent (default %d)\n"
        "  --rtt-poor-ms N           smoothed RTT at or above this is poor (default %d)\n"
        "  --app-ping                heartbeat with {\"type\":\"ping\"} text messages\n"
        "\n"
        "Transport:\n"
        "  -H, --header 'Name: value'  extra upgrade header (repeatable)\n"
        "  --subprotocol NAME        Sec-WebSocket-Protocol\n"
        "  --origin ORIGIN           Origin header\n"
        "  --deflate                 offer permessage-deflate\n"
        "  --proxy HOST:PORT         HTTP proxy\n"
        "  --ca-file PATH            PEM CA bundle for wss:// (default: system store)\n"
        "  --insecure                accept any certificate (development only)\n"
        "  --max-message-bytes N     largest message either way (default %zu)\n"
        "\n"
        "Alerts (a Discord webhook when the server is judged down, and when it is back):\n"
        "  --discord-webhook URL     the webhook (default: $DISCORD_WEBHOOK_URL; \"\" turns it off)\n"
        "  --alert-label 'Name: v'   a field in every alert, e.g. 'Store: 12' (repeatable)\n"
        "  --alert-min-interval-ms N at most one down alert in N ms (default %d)\n"
        "\n"
        "Offline queue:\n"
        "  --queue-policy P          %s (default %s)\n"
        "  --queue-max N             messages the queue holds (default %zu)\n"
        "  --queue-max-bytes N       bytes the queue holds (default %zu)\n"
        "\n"
        "Reliable delivery (lifeline.v1: the server must speak it):\n"
        "  --reliable                number each line, resend it until the server\n"
        "                            acknowledges it (acked events); at the end of stdin,\n"
        "                            wait for every acknowledgement\n"
        "  --outbox PATH             keep the session and the unacknowledged lines in\n"
        "                            this SQLite file, for the next run (implies\n"
        "                            --reliable; default: in memory, lost at exit)\n"
        "  --durability D            %s (default %s): an outbox commit\n"
        "                            survives a crash of the CLI, with full a power loss\n"
        "  --ack-every N             ack the server's messages after N (default %d)\n"
        "  --ack-delay-ms N          ... or N ms after the first not acked (default %d)\n"
        "\n"
        "Output:\n"
        "  --json                    one JSON object per event and line\n"
        "  -m, --messages-only       stdout: each received message's body and a newline,\n"
        "                            nothing else (a binary one in base64), as websocat\n"
        "                            does, for `lifeline-cli -m URL | jq`; every other\n"
        "                            event goes to stderr (readable, or with --json)\n"
        "  -v, --verbose             also print the library's log lines (debug)\n"
        "  --log-level LEVEL         %s (implies --verbose)\n"
        "  --print-config            print the effective configuration as JSON, exit\n"
        "  --exit-on-server-down     exit 4 as soon as server_down is entered\n"
        "  -h, --help                this help\n"
        "  -V, --version             the CLI's and the library's versions\n"
        "\n"
        "Secrets: header values, the URL's userinfo, query values and fragment,\n"
        "and the webhook's token are printed as *** by --print-config; the\n"
        "library removes them from its log lines.\n"
        "\n"
        "Exit status:\n"
        "  0  stdin ended, every line was written (--reliable: acknowledged, the\n"
        "     outbox's earlier lines too), and the client closed\n"
        "  1  the client could not be created or started (system error)\n"
        "  2  bad usage or configuration (stderr names the option), or an --outbox\n"
        "     file that cannot be opened or is damaged (stderr says why)\n"
        "  3  the client entered error (a permanent failure, e.g. HTTP 401, or with\n"
        "     --reliable a server that does not speak lifeline.v1)\n"
        "  4  server_down was entered and --exit-on-server-down was given; or stdin\n"
        "     ended and a line was not delivered (dropped, refused; --reliable: not\n"
        "     acknowledged, kept in the --outbox file for the next run) or the\n"
        "     connection never opened: the server was not reached\n"
        "  128+N  stopped by signal N (SIGINT, SIGTERM) after a graceful close\n",
        LIFELINE_MAX_FALLBACK_URLS, d.base_delay_ms, d.max_delay_ms, d.jitter_ms,
        choices(lifeline_jitter_mode_name, jitter_modes, sizeof(jitter_modes)),
        lifeline_jitter_mode_name(d.jitter_mode), d.max_attempts, d.stable_after_ms,
        d.down_ping_interval_ms, d.connect_timeout_ms, d.ping_interval_ms,
        d.ping_timeout_ms, d.rtt_good_ms, d.rtt_poor_ms, d.max_message_bytes,
        d.alert_min_interval_ms,
        choices(lifeline_queue_policy_name, queue_policies, sizeof(queue_policies)),
        cli_spelling(lifeline_queue_policy_name(d.queue_policy), policy, sizeof(policy)),
        d.queue_max_messages, d.queue_max_bytes,
        choices(lifeline_durability_name, durabilities, sizeof(durabilities)),
        lifeline_durability_name(d.outbox_durability), d.ack_every, d.ack_delay_ms,
        choices(lifeline_log_level_name, log_levels, sizeof(log_levels)));
}

void cli_free(cli_options *o)
{
    free(o->headers);
    o->headers = NULL;
    free(o->labels);
    o->labels = NULL;
    free(o->fallbacks);
    o->fallbacks = NULL;
}
