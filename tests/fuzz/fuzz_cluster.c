/* What other instances leave in Redis (src/server/cluster_wire.c,
 * shared_wire.c): a fan-out frame, a presence record, or an entry of a
 * lifeline.v1 session's ring. Input: one byte choosing which (modulo 3),
 * then the bytes. Properties: a frame that reads points inside the input
 * and writes back to the same bytes; a presence record adds to a view or
 * is refused, and the view never counts an instance it refused; an entry
 * that reads has its payload inside the input and writes back to the same
 * bytes. */
#include "fuzz.h"
#include "server/cluster_wire.h"
#include "server/shared_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    if (data[0] % 3 == 2) {
        srv_shared_entry e;
        if (srv_shared_entry_parse((const char *)in, n, &e))
            return 0;
        FUZZ_CHECK(e.seq > 0 && e.wall_ms >= 0);
        FUZZ_CHECK(e.payload >= (const char *)in && e.payload + e.len == (const char *)in + n);
        char head[SRV_SHARED_ENTRY_HEAD_MAX];
        size_t hl = srv_shared_entry_head(e.seq, e.wall_ms, e.binary, head);
        FUZZ_CHECK(hl + e.len == n && memcmp(head, in, hl) == 0);
        return 0;
    }
    if (data[0] % 3 == 1) {
        srv_cluster_view v;
        srv_cluster_view_init(&v);
        int rc = srv_cluster_view_add(&v, (const char *)in, n);
        FUZZ_CHECK(rc == 0 || rc == -1);
        FUZZ_CHECK(v.instances == (rc == 0 ? 1u : 0u));
        srv_cluster_view_free(&v);
        return 0;
    }
    srv_fanout f;
    if (srv_fanout_decode(in, n, &f))
        return 0;
    FUZZ_CHECK(f.origin >= (const char *)in && f.origin + f.origin_len <= (const char *)in + n);
    FUZZ_CHECK(f.store >= (const char *)in && f.store + f.store_len <= (const char *)in + n);
    FUZZ_CHECK(f.payload >= in && f.payload + f.len == in + n);
    FUZZ_CHECK(!memchr(f.origin, '\n', f.origin_len) && !memchr(f.store, '\n', f.store_len));
    char origin[512], store[512];
    if (f.origin_len < sizeof(origin) && f.store_len < sizeof(store) &&
        !memchr(f.origin, 0, f.origin_len) && !memchr(f.store, 0, f.store_len)) {
        memcpy(origin, f.origin, f.origin_len);
        origin[f.origin_len] = 0;
        memcpy(store, f.store, f.store_len);
        store[f.store_len] = 0;
        char *again;
        size_t len;
        FUZZ_CHECK(srv_fanout_encode(origin, store, f.binary, f.payload, f.len, &again, &len) ==
                   0);
        FUZZ_CHECK(len == n && memcmp(again, in, n) == 0);
        free(again);
    }
    return 0;
}
