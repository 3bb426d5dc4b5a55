/* Where the server's status alerts go: read from the environment by
 * main.c, used by alerts.c. */
#ifndef SRV_ALERT_CFG_H
#define SRV_ALERT_CFG_H

#define SRV_SENDGRID_DEFAULT_URL "https://api.sendgrid.com/v3/mail/send"

typedef struct srv_alert_cfg {
    const char *discord_webhook_url; /* DISCORD_WEBHOOK_URL */
    const char *sendgrid_api_url;    /* SENDGRID_API_URL, default above */
    const char *sendgrid_api_key;    /* SENDGRID_API_KEY */
    const char *admin_email;         /* ADMIN_EMAIL: the recipient */
    const char *from_email;          /* FROM_EMAIL: the sender */
} srv_alert_cfg;

#endif
