/* lifeline-server's command line: every option with its default, parsed
 * from argv without touching the world (no getopt globals, no exit). */
#ifndef SRV_OPTIONS_H
#define SRV_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "server/alert_cfg.h"
#include "server/log.h"
#include "server/ratelimit.h"

#define SRV_OPTS_DEFAULT_HOST "127.0.0.1"
#define SRV_OPTS_DEFAULT_PORT 8080
#define SRV_OPTS_DEFAULT_DB "lifeline-server.db"
#define SRV_OPTS_DEFAULT_PING_INTERVAL_MS 30000
#define SRV_OPTS_DEFAULT_PING_TIMEOUT_MS 10000
#define SRV_OPTS_DEFAULT_MAX_MESSAGE_BYTES (1024 * 1024)
#define SRV_OPTS_DEFAULT_DOWN_AFTER_MS 60000
#define SRV_OPTS_DEFAULT_TTL_S 3600
#define SRV_OPTS_DEFAULT_MAX_USERS 100000

typedef enum srv_opts_mode {
    SRV_MODE_SERVE,      /* run the server */
    SRV_MODE_MAKE_TOKEN, /* print one auth token and exit */
    SRV_MODE_HELP,       /* print the usage and exit 0 */
    SRV_MODE_VERSION,    /* print "lifeline-server X.Y.Z" and exit 0 */
} srv_opts_mode;

typedef struct srv_opts {
    srv_opts_mode mode;
    const char *host;           /* points into argv or at a literal */
    int port;                   /* 0 picks a free port */
    int64_t ping_interval_ms;
    int64_t ping_timeout_ms;
    const char *db_path;
    int64_t max_users;          /* users kept in the database */
    const char *auth_secret;    /* NULL: identity from ?store=&user= */
    const char *admin_token;    /* NULL: admin routes answer loopback only */
    int64_t max_message_bytes;
    const char *tls_cert;
    const char *tls_key;
    int64_t down_after_ms;
    int64_t drain_window_ms;    /* SIGTERM closes the connections over this long (drain.h) */
    /* lifeline.v1 (delivery.h) */
    int64_t replay_ms;          /* keep sent messages at least this long */
    int64_t replay_max;         /* at most this many per session */
    int64_t replay_max_bytes;   /* and at most this many bytes of them */
    int64_t ack_every;
    int64_t ack_delay_ms;
    int64_t max_sessions;       /* sessions kept without a connection, and marks in the database */
    bool journal;               /* keep every accepted client message in the database */
    const char *redis_url;      /* NULL: no cluster (cluster.h) */
    const char *instance;       /* the instance's id in the cluster; NULL: host name:port */
    int64_t metrics_max_stores; /* GET /metrics names at most this many stores */
    srv_rl_cfg rate_limit;      /* per connection; msgs_per_s 0: off */
    bool json_logs;
    srv_log_level log_level;    /* lines below it are not written */
    /* alert channels, from the environment (main.c) */
    srv_alert_cfg alerts;
    /* --make-token */
    const char *token_user;
    const char *token_store;
    int64_t token_ttl_s;
} srv_opts;

/* Fills every default. */
void srv_opts_init(srv_opts *o);

/* Parses argv[1..argc-1] into o (which srv_opts_init filled). Accepts
 * "--name value" and "--name=value". Returns 0, or -1 with a message that
 * names the offending option in err (the caller exits with status 2).
 * Strings in o point into argv. */
int srv_opts_parse(srv_opts *o, int argc, char **argv, char *err, size_t errlen);

/* Writes the usage text. */
void srv_opts_usage(FILE *out);

#endif
