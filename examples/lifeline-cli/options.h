/* The command line of lifeline-cli: parsed into a lifeline_config (whose
 * defaults come from lifeline_config_init()) plus the CLI's own switches. */
#ifndef LIFELINE_CLI_OPTIONS_H
#define LIFELINE_CLI_OPTIONS_H

#include <stdio.h>

#include "lifeline/lifeline.h"

/* Exit codes, also documented in --help. */
enum {
    CLI_EXIT_OK = 0,          /* stdin ended and the client closed */
    CLI_EXIT_USAGE = 2,       /* bad usage or configuration */
    CLI_EXIT_ERROR = 3,       /* the client entered error (permanent failure) */
    CLI_EXIT_SERVER_DOWN = 4, /* --exit-on-server-down and server_down entered */
    /* stdin ended but not all of it reached the server: a line was dropped,
     * or the connection never opened. 4 too: the server was not reached. */
    CLI_EXIT_UNDELIVERED = 4,
};

typedef struct cli_options {
    lifeline_config cfg;       /* strings point into argv */
    const char **headers;      /* the --header values (cfg.headers) */
    const char **labels;       /* the --alert-label values (cfg.alert_labels) */
    const char **fallbacks;    /* the URLs after the first (cfg.fallback_urls) */
    int json;                  /* --json */
    int messages_only;         /* --messages-only: stdout has the messages alone */
    int verbose;               /* --verbose: log events at cfg.log_level */
    int print_config;          /* --print-config */
    int exit_on_server_down;   /* --exit-on-server-down */
} cli_options;

/* What cli_parse() asks main to do. */
enum { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_FAIL };

/* Parse argv into *o and validate the result with lifeline_config_validate()
 * (with --print-config and no URL, everything but the URL). On CLI_FAIL the
 * reason, naming the option, is already on stderr. Free with cli_free(). */
int cli_parse(cli_options *o, int argc, char **argv);

/* Print "lifeline-cli: OPTION: MESSAGE" on stderr for err, a lifeline_error
 * from lifeline_config_validate() or lifeline_client_new() about o->cfg,
 * naming the option of the field lifeline_config_check() names. */
void cli_report_config_error(const cli_options *o, int err);

/* The --help text, defaults included. */
void cli_usage(FILE *out);

/* A library name (lifeline_queue_policy_name(), ...) as the command line
 * spells it, '-' for '_': "drop_oldest" is "drop-oldest". Writes it into
 * buf, n bytes, cut to fit; returns buf. */
const char *cli_spelling(const char *name, char *buf, size_t n);

void cli_free(cli_options *o);

#endif
