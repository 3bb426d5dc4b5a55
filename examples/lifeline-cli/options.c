/* Command-line parsing for lifeline-cli. Every default comes from
 * lifeline_config_init(); every configuration check is the library's
 * lifeline_config_validate(), and its error is reported against the option
 * that caused it. */
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
    OPT_MAX_MESSAGE_BYTES,
    OPT_QUEUE_POLICY,
    OPT_QUEUE_MAX,
    OPT_QUEUE_MAX_BYTES,
    OPT_JSON,
    OPT_VERBOSE,
    OPT_LOG_LEVEL,
    OPT_PRINT_CONFIG,
    OPT_EXIT_ON_SERVER_DOWN,
    OPT_DISCORD_WEBHOOK,
    OPT_ALERT_LABEL,
    OPT_ALERT_MIN_INTERVAL,
    OPT_HELP,
    OPT_VERSION,
    OPT_END
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
    {"max-message-bytes", required_argument, NULL, OPT_MAX_MESSAGE_BYTES},
    {"queue-policy", required_argument, NULL, OPT_QUEUE_POLICY},
    {"queue-max", required_argument, NULL, OPT_QUEUE_MAX},
    {"queue-max-bytes", required_argument, NULL, OPT_QUEUE_MAX_BYTES},
    {"json", no_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
    {"exit-on-server-down", no_argument, NULL, OPT_EXIT_ON_SERVER_DOWN},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

_Static_assert(OPT_END - OPT_FIRST <= 64, "cli_options.given has 64 bits");

/* Short forms, mapped onto the long ones. */
static const char short_opts[] = ":H:vhV";

/* The int fields of lifeline_config, in the order the config declares them
 * (the order lifeline_config_validate() checks them in). */
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

static const char *const queue_policy_names[] = {"reject", "drop-oldest", "off"};
static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

const char *cli_queue_policy_name(int policy)
{
    return policy >= 0 && (size_t)policy < COUNT(queue_policy_names)
               ? queue_policy_names[policy] : "unknown";
}

const char *cli_log_level_name(int level)
{
    return level >= 0 && (size_t)level < COUNT(log_level_names)
               ? log_level_names[level] : "unknown";
}

static const char *opt_name(int id)
{
    if (id == OPT_URL)
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

static int given(const cli_options *o, int id)
{
    return id >= OPT_FIRST && (o->given >> (id - OPT_FIRST) & 1);
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

static int parse_name(int id, const char *s, const char *const *names,
                      size_t count, int *out)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    fprintf(stderr, "lifeline-cli: --%s: \"%s\" is not one of", opt_name(id), s);
    for (size_t i = 0; i < count; i++)
        fprintf(stderr, "%s%s", i ? ", " : " ", names[i]);
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
    static const char *const jitter_modes[] = {"additive", "full"};
    switch (id) {
    case OPT_JITTER_MODE:
        return parse_name(id, arg, jitter_modes, COUNT(jitter_modes), &cfg->jitter_mode);
    case OPT_QUEUE_POLICY:
        return parse_name(id, arg, queue_policy_names, COUNT(queue_policy_names),
                          &cfg->queue_policy);
    case OPT_LOG_LEVEL:
        o->verbose = 1;
        return parse_name(id, arg, log_level_names, COUNT(log_level_names),
                          &cfg->log_level);
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
    case OPT_JSON: o->json = 1; return 0;
    case OPT_VERBOSE: o->verbose = 1; return 0;
    case OPT_PRINT_CONFIG: o->print_config = 1; return 0;
    case OPT_EXIT_ON_SERVER_DOWN: o->exit_on_server_down = 1; return 0;
    default: return -1;
    }
}

/* The option to blame for a validation error. For a rule between two
 * fields, the first is blamed unless only the second was given. */
static int culprit(const cli_options *o, int err, size_t *header_index)
{
    static const struct {
        int err, first, second;
    } rules[] = {
        {LIFELINE_ERR_CONFIG_URL, OPT_URL, 0},
        {LIFELINE_ERR_CONFIG_BASE_DELAY, OPT_BASE_DELAY, 0},
        {LIFELINE_ERR_CONFIG_MAX_DELAY, OPT_MAX_DELAY, OPT_BASE_DELAY},
        {LIFELINE_ERR_CONFIG_MAX_ATTEMPTS, OPT_MAX_ATTEMPTS, 0},
        {LIFELINE_ERR_CONFIG_JITTER_MODE, OPT_JITTER_MODE, 0},
        {LIFELINE_ERR_CONFIG_PING_INTERVAL, OPT_PING_INTERVAL, 0},
        {LIFELINE_ERR_CONFIG_PING_TIMEOUT, OPT_PING_TIMEOUT, OPT_PING_INTERVAL},
        {LIFELINE_ERR_CONFIG_DOWN_PING_INTERVAL, OPT_DOWN_PING_INTERVAL, 0},
        {LIFELINE_ERR_CONFIG_RTT_THRESHOLDS, OPT_RTT_GOOD, OPT_RTT_POOR},
        {LIFELINE_ERR_CONFIG_HEALTH_URL, OPT_HEALTH_URL, 0},
        {LIFELINE_ERR_CONFIG_QUEUE, OPT_QUEUE_POLICY, 0},
        {LIFELINE_ERR_CONFIG_CONNECT_TIMEOUT, OPT_CONNECT_TIMEOUT, 0},
        {LIFELINE_ERR_CONFIG_PROXY, OPT_PROXY, 0},
        {LIFELINE_ERR_CONFIG_CA_FILE, OPT_CA_FILE, 0},
        {LIFELINE_ERR_CONFIG_WEBHOOK, OPT_DISCORD_WEBHOOK, 0},
        {LIFELINE_ERR_CONFIG_LABEL, OPT_ALERT_LABEL, 0},
        {LIFELINE_ERR_CONFIG_DEFLATE, OPT_DEFLATE, 0},
    };
    lifeline_config cfg = o->cfg;
    switch (err) {
    case LIFELINE_ERR_CONFIG_NEGATIVE:
        for (size_t i = 0; i < COUNT(int_fields); i++)
            if (*int_field(&cfg, int_fields[i].offset) < 0)
                return int_fields[i].id;
        return 0;
    case LIFELINE_ERR_CONFIG_LIMITS:
        for (size_t i = 0; i < COUNT(size_fields); i++)
            if (*size_field(&cfg, size_fields[i].offset) == 0)
                return size_fields[i].id;
        return 0;
    case LIFELINE_ERR_CONFIG_HEADER:
        /* validate each header alone to find the bad one */
        for (size_t i = 0; i < o->cfg.header_count; i++) {
            cfg.headers = &o->cfg.headers[i];
            cfg.header_count = 1;
            if (lifeline_config_validate(&cfg) == LIFELINE_ERR_CONFIG_HEADER) {
                *header_index = i + 1;
                break;
            }
        }
        return OPT_HEADER;
    default:
        break;
    }
    for (size_t i = 0; i < COUNT(rules); i++)
        if (rules[i].err == err)
            return rules[i].second && given(o, rules[i].second) &&
                           !given(o, rules[i].first)
                       ? rules[i].second : rules[i].first;
    return 0;
}

void cli_report_config_error(const cli_options *o, int err)
{
    size_t header_index = 0;
    int id = culprit(o, err, &header_index);
    if (id == OPT_URL)
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
        o->given |= 1ULL << (c - OPT_FIRST);
        level_given |= c == OPT_LOG_LEVEL;
        if (apply(o, c, optarg))
            return CLI_FAIL;
    }
    if (o->verbose && !level_given)
        o->cfg.log_level = LIFELINE_LOG_DEBUG;

    if (optind < argc)
        o->cfg.url = argv[optind++];
    if (optind < argc) {
        /* not echoed: it may be a URL with a token in it */
        fprintf(stderr, "lifeline-cli: %d unexpected argument(s) after the URL\n",
                argc - optind);
        return CLI_FAIL;
    }
    if (!o->cfg.url && !o->print_config) {
        fprintf(stderr, "lifeline-cli: URL: missing (a ws:// or wss:// URL)\n"
                        "Try 'lifeline-cli --help'.\n");
        return CLI_FAIL;
    }

    /* --print-config without a URL still checks everything else */
    lifeline_config check = o->cfg;
    if (!check.url)
        check.url = "ws://localhost/";
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
    fprintf(out,
        "Usage: lifeline-cli [options] URL\n"
        "\n"
        "Connect to the WebSocket URL (ws:// or wss://) and keep the connection\n"
        "alive with lifeline. Each line of stdin is sent as a text message (queued\n"
        "while offline); at the end of stdin the client closes gracefully.\n"
        "Events (state changes, retries, messages, pongs, quality) go to stdout.\n"
        "\n"
        "Reconnection:\n"
        "  --base-delay-ms N         first retry delay (default %d)\n"
        "  --max-delay-ms N          cap of the exponential delay (default %d)\n"
        "  --jitter-ms N             additive jitter range (default %d)\n"
        "  --jitter-mode MODE        additive or full (default %s)\n"
        "  --max-attempts N          retries before server_down (default %d)\n"
        "  --stable-after-ms N       uptime that resets the attempt count (default %d)\n"
        "  --down-ping-interval-ms N probe cadence in server_down (default %d)\n"
        "  --health-url URL          http(s) URL that must answer 2xx before a probe\n"
        "  --connect-timeout-ms N    limit of one attempt, handshake included (default %d)\n"
        "  --seed N                  jitter seed, to replay a run (default: random)\n"
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
        "  --queue-policy P          reject, drop-oldest or off (default %s)\n"
        "  --queue-max N             messages the queue holds (default %zu)\n"
        "  --queue-max-bytes N       bytes the queue holds (default %zu)\n"
        "\n"
        "Output:\n"
        "  --json                    one JSON object per event and line\n"
        "  -v, --verbose             also print the library's log lines (debug)\n"
        "  --log-level LEVEL         error, warn, info or debug (implies --verbose)\n"
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
        "  0  stdin ended and the client closed\n"
        "  1  the client could not be created or started (system error)\n"
        "  2  bad usage or configuration (stderr names the option)\n"
        "  3  the client entered error (a permanent failure, e.g. HTTP 401)\n"
        "  4  server_down was entered and --exit-on-server-down was given\n"
        "  128+N  stopped by signal N (SIGINT, SIGTERM) after a graceful close\n",
        d.base_delay_ms, d.max_delay_ms, d.jitter_ms,
        lifeline_jitter_mode_name(d.jitter_mode), d.max_attempts, d.stable_after_ms,
        d.down_ping_interval_ms, d.connect_timeout_ms, d.ping_interval_ms,
        d.ping_timeout_ms, d.rtt_good_ms, d.rtt_poor_ms, d.max_message_bytes,
        d.alert_min_interval_ms, cli_queue_policy_name(d.queue_policy), d.queue_max_messages, d.queue_max_bytes);
}

void cli_free(cli_options *o)
{
    free(o->headers);
    o->headers = NULL;
    free(o->labels);
    o->labels = NULL;
}
