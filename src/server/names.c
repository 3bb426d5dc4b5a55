/* Name validation; see names.h. */
#include "server/names.h"

#include "proto/ws_utf8.h"

bool srv_utf8_valid(const unsigned char *s, size_t len)
{
    return ll_utf8_stream_valid(s, len); /* one rule for every caller: src/proto */
}

bool srv_name_valid(const char *s, size_t len)
{
    if (!s || len == 0 || len > SRV_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        /* C1 controls, U+0080..U+009F: 0xc2 then 0x80..0x9f (0xc2 is
         * always a lead byte in valid UTF-8, checked below) */
        if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
            return false;
    }
    return srv_utf8_valid((const unsigned char *)s, len);
}
