/* One line of a webhook's answer, as libcurl hands it to the notifier's
 * CURLOPT_HEADERFUNCTION: the bytes the server sent, not NUL-terminated,
 * with the line end still on. Pure. */
#ifndef LL_NOTIFY_HTTP_HEADER_H
#define LL_NOTIFY_HTTP_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/* If line is a header field called name (ASCII letters matched without
 * regard to case, the colon right after it: RFC 9112 5.1 allows no
 * whitespace between), its value without the SP and HTAB around it and
 * the line end (CR, LF), into out, NUL-terminated, and returns true.
 * Returns false and leaves out as it was when the line is another field or
 * a status line, when the value holds a control byte (NUL, a CR or LF
 * inside it, ...; HTAB is allowed), or when it does not fit in out_len
 * bytes with its NUL. */
bool ll_http_header_value(const char *line, size_t len, const char *name, char *out,
                          size_t out_len);

#endif
