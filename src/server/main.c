/* lifeline-server: the command line. Serves (loop.c), prints a token
 * (--make-token), the usage or the version. Exit status 2 for bad options. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifeline/version.h" /* generated from project(version:) in meson.build */
#include "server/options.h"
#include "server/server.h"
#include "server/token.h"

static int make_token(const srv_opts *o)
{
    if (!srv_name_valid(o->token_user, strlen(o->token_user))) {
        fprintf(stderr, "lifeline-server: --user: not a valid name\n");
        return 2;
    }
    if (!srv_name_valid(o->token_store, strlen(o->token_store))) {
        fprintf(stderr, "lifeline-server: --store: not a valid name\n");
        return 2;
    }
    char *tok = srv_token_make(o->auth_secret, o->token_user, o->token_store,
                               (int64_t)time(NULL) + o->token_ttl_s);
    if (!tok) {
        fprintf(stderr, "lifeline-server: cannot make a token\n");
        return 1;
    }
    printf("%s\n", tok);
    free(tok);
    return 0;
}

int main(int argc, char **argv)
{
    srv_opts o;
    char err[256];
    srv_opts_init(&o);
    if (srv_opts_parse(&o, argc, argv, err, sizeof(err))) {
        fprintf(stderr, "lifeline-server: %s\n(see lifeline-server --help)\n", err);
        return 2;
    }
    switch (o.mode) {
    case SRV_MODE_HELP:
        srv_opts_usage(stdout);
        return 0;
    case SRV_MODE_VERSION:
        printf("lifeline-server %s\n", LIFELINE_VERSION_STRING);
        return 0;
    case SRV_MODE_MAKE_TOKEN:
        return make_token(&o);
    case SRV_MODE_SERVE:
        break;
    }
    srv_alert_cfg_from_env(&o.alerts); /* the server reads its environment; the library never does */
    /* past RLIMIT_FSIZE (ulimit -f) a write would kill the server; ignored,
     * it fails with EFBIG instead and SQLite reports it as a db_error */
    signal(SIGXFSZ, SIG_IGN);
    return srv_server_run(&o);
}
