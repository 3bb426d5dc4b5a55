/* A SQLite VFS of one outbox: the system's VFS, with each WAL frame's
 * header written together with its page (one write(2) a frame instead of
 * two). A commit of one small message writes one frame, so this halves
 * the system calls of the outbox's commits (bench/run --only delivery).
 *
 * Each outbox registers its own (a name made from its address) and
 * unregisters it when it closes: lifeline keeps no state of its own across
 * outboxes; SQLite's list of VFSes is SQLite's, guarded by its own lock
 * (the Debian library is built thread-safe).
 *
 * Nothing outside src/store/sqlite*.c includes it. */
#ifndef LL_STORE_SQLITE_VFS_H
#define LL_STORE_SQLITE_VFS_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct ll_sq_vfs {
    sqlite3_vfs vfs;        /* registered under name */
    sqlite3_vfs *real;      /* the system's default VFS */
    char name[48];
    int registered;
    uint64_t merged;        /* frame headers written with their page */
} ll_sq_vfs;

/* Register v (owned by the caller, which keeps it in place until
 * ll_sq_vfs_close()). Returns SQLITE_OK, or SQLite's code (no default
 * VFS, out of memory). Open the file with v->name as sqlite3_open_v2()'s
 * zVfs. Threads: any. */
int ll_sq_vfs_open(ll_sq_vfs *v);

/* Unregister v; call it after the connection that uses it is closed.
 * Safe on a v that ll_sq_vfs_open() did not register. Threads: any. */
void ll_sq_vfs_close(ll_sq_vfs *v);

#endif
