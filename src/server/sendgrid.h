/* The JSON body of a SendGrid v3 mail/send call: one recipient, plain text.
 * lifeline-server's alerts only: the client library alerts to Discord. */
#ifndef SRV_SENDGRID_H
#define SRV_SENDGRID_H

#include "notify/alert.h"

/* A heap JSON string (free()), or NULL on OOM: personalizations[].to = to,
 * from = from, subject = the alert's title, content text/plain = its
 * description, fields ("name: value" lines) and time. */
char *srv_sendgrid_payload(const ll_alert *alert, const char *to, const char *from);

#endif
