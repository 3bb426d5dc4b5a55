/* A connection's log lines; see connlog.h. */
#include "server/connlog.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

const char *srv_close_cause_name(srv_close_cause cause)
{
    switch (cause) {
    case SRV_CLOSE_HANGUP:
        return "hangup";
    case SRV_CLOSE_CLIENT:
        return "client_close";
    case SRV_CLOSE_PING_TIMEOUT:
        return "ping_timeout";
    case SRV_CLOSE_OVERSIZE:
        return "oversize";
    case SRV_CLOSE_PROTOCOL:
        return "protocol_error";
    case SRV_CLOSE_SLOW_READER:
        return "slow_reader";
    case SRV_CLOSE_SHUTDOWN:
        return "server_shutdown";
    case SRV_CLOSE_FAULT:
        return "fault_mode";
    case SRV_CLOSE_ERROR:
        return "server_error";
    case SRV_CLOSE_REPLACED:
        return "session_replaced";
    case SRV_CLOSE_RATE_LIMITED:
        return "rate_limited";
    }
    return "unknown";
}

const char *srv_peer_format(const struct sockaddr *sa, socklen_t len, char out[SRV_PEER_LEN])
{
    char addr[INET6_ADDRSTRLEN];
    strcpy(out, "-");
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        if (inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr)))
            snprintf(out, SRV_PEER_LEN, "%s:%u", addr, (unsigned)ntohs(a->sin_port));
    } else if (sa && sa->sa_family == AF_INET6 &&
               len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        unsigned port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            if (inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], addr, sizeof(addr)))
                snprintf(out, SRV_PEER_LEN, "%s:%u", addr, port);
        } else if (inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr))) {
            snprintf(out, SRV_PEER_LEN, "[%s]:%u", addr, port);
        }
    }
    return out;
}

int srv_conn_end_code(const srv_conn_end *end)
{
    if (end->cause == SRV_CLOSE_CLIENT)
        return end->client_code ? end->client_code : SRV_CLOSE_NO_STATUS;
    return end->server_code ? end->server_code : SRV_CLOSE_ABNORMAL;
}

/* id, user, store, peer into a new object; NULL when out of memory. */
static cJSON *who_fields(const srv_conn_who *who)
{
    cJSON *f = cJSON_CreateObject();
    if (!f || !cJSON_AddNumberToObject(f, "id", (double)who->id) ||
        (who->user && !cJSON_AddStringToObject(f, "user", who->user)) ||
        (who->store && !cJSON_AddStringToObject(f, "store", who->store)) ||
        (who->peer && !cJSON_AddStringToObject(f, "peer", who->peer))) {
        cJSON_Delete(f);
        return NULL;
    }
    return f;
}

cJSON *srv_connlog_opened(const srv_conn_who *who)
{
    return who_fields(who);
}

cJSON *srv_connlog_closed(const srv_conn_who *who, const srv_conn_end *end)
{
    cJSON *f = who_fields(who);
    bool detail = end->detail && *end->detail && end->cause != SRV_CLOSE_CLIENT &&
                  end->server_code;
    if (!f || !cJSON_AddNumberToObject(f, "code", srv_conn_end_code(end)) ||
        !cJSON_AddStringToObject(f, "reason", srv_close_cause_name(end->cause)) ||
        (detail && !cJSON_AddStringToObject(f, "detail", end->detail)) ||
        !cJSON_AddNumberToObject(f, "duration_ms", (double)end->duration_ms)) {
        cJSON_Delete(f);
        return NULL;
    }
    return f;
}

const char *srv_log_path(const char *path, size_t len, char out[SRV_LOG_PATH_LEN])
{
    static const char hex[] = "0123456789ABCDEF";
    const size_t room = SRV_LOG_PATH_LEN - 4; /* for "..." and the NUL */
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)path[i];
        bool plain = b > 0x20 && b < 0x7f && b != '%' && b != '"' && b != '=';
        if (n + (plain ? 1 : 3) > room) {
            memcpy(out + n, "...", 4);
            return out;
        }
        if (plain) {
            out[n++] = (char)b;
        } else {
            out[n++] = '%';
            out[n++] = hex[b >> 4];
            out[n++] = hex[b & 15];
        }
    }
    out[n] = '\0';
    return out;
}
