/* An alert, whatever channel carries it: what happened, in fields. */
#ifndef LL_NOTIFY_ALERT_H
#define LL_NOTIFY_ALERT_H

#include <stddef.h>
#include <stdint.h>

#define LL_ALERT_MAX_FIELDS 32

typedef enum ll_alert_kind {
    LL_ALERT_DOWN = 0,      /* the client judged its server down */
    LL_ALERT_RECOVERED,     /* ... and it is back */
    LL_ALERT_CUSTOM,        /* the app's own "send this now" */
    LL_ALERT_STATUS,        /* the server's status changes */
    LL_ALERT_KIND_COUNT
} ll_alert_kind;

typedef struct ll_alert_field {
    const char *name;
    const char *value;
    int inline_;
} ll_alert_field;

typedef struct ll_alert {
    int kind;                 /* ll_alert_kind */
    const char *title;
    const char *description;
    uint32_t color;           /* 0xRRGGBB */
    int64_t unix_ms;          /* when it happened (wall clock) */
    const char *footer;
    ll_alert_field fields[LL_ALERT_MAX_FIELDS];
    size_t n_fields;
} ll_alert;

#define LL_COLOR_RED 0xE74C3CU
#define LL_COLOR_GREEN 0x2ECC71U
#define LL_COLOR_BLUE 0x3498DBU

/* "down", "recovered", "custom", "status". */
const char *ll_alert_kind_name(int kind);

#endif
