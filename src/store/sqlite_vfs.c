/* The outbox's VFS: the system's, with each WAL frame's 24-byte header
 * held back and written with the page that follows it (sqlite_vfs.h).
 *
 * SQLite writes a WAL frame as two writes, its header at offset o and its
 * page at o + 24 (walWriteOneFrame() in SQLite's wal.c). The header is kept
 * here instead; when the next write is the page at o + 24, both go out in
 * one write of the real file. Any other call on the file (a read, a
 * sync, a truncate, a write elsewhere, the size, a lock, the close) writes
 * the held header first, so what SQLite sees of the file is what it wrote,
 * and nothing it synced is left in memory. A failed write is reported to
 * SQLite by the call that made it (the page's write, or the call that
 * wrote the held header), which fails the transaction as a failed write
 * of the header would have. Files other than the WAL pass through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_vfs.h"

#define FRAME_HEADER 24

typedef struct vfile {
    sqlite3_file base;      /* base.pMethods: &methods once open */
    sqlite3_file *real;     /* the real VFS's file, just after this struct */
    ll_sq_vfs *owner;
    int wal;                /* the WAL file: its frame headers are held */
    sqlite3_int64 held_at;  /* offset of the held header; -1: none */
    unsigned char held[FRAME_HEADER];
    unsigned char *buf;     /* header + page, for the merged write */
    int buf_size;
} vfile;

static sqlite3_vfs *real_of(sqlite3_vfs *v)
{
    return ((ll_sq_vfs *)v->pAppData)->real;
}

/* Write the held header, if any. */
static int flush(vfile *f)
{
    if (f->held_at < 0)
        return SQLITE_OK;
    sqlite3_int64 at = f->held_at;
    f->held_at = -1;
    return f->real->pMethods->xWrite(f->real, f->held, FRAME_HEADER, at);
}

/* ---- a file's methods: the held header, then the real file's ---------- */

static int w_close(sqlite3_file *p)
{
    vfile *f = (vfile *)p;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int w_write(sqlite3_file *p, const void *data, int amt, sqlite3_int64 off)
{
    vfile *f = (vfile *)p;
    if (f->held_at >= 0 && off == f->held_at + FRAME_HEADER) {
        /* the page of the held header: both at once */
        if (f->buf_size < FRAME_HEADER + amt) {
            unsigned char *b = realloc(f->buf, (size_t)FRAME_HEADER + (size_t)amt);
            if (!b) {
                int rc = flush(f);
                return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, amt, off);
            }
            f->buf = b;
            f->buf_size = FRAME_HEADER + amt;
        }
        memcpy(f->buf, f->held, FRAME_HEADER);
        memcpy(f->buf + FRAME_HEADER, data, (size_t)amt);
        sqlite3_int64 at = f->held_at;
        f->held_at = -1;
        int rc = f->real->pMethods->xWrite(f->real, f->buf, FRAME_HEADER + amt, at);
        if (rc == SQLITE_OK)
            f->owner->merged++;
        return rc;
    }
    int rc = flush(f);
    if (rc != SQLITE_OK)
        return rc;
    if (f->wal && amt == FRAME_HEADER) {
        memcpy(f->held, data, FRAME_HEADER);
        f->held_at = off;
        return SQLITE_OK;
    }
    return f->real->pMethods->xWrite(f->real, data, amt, off);
}

/* The other methods: the held header first, then the real file's. */
#define FLUSHED(call)                                                                  \
    vfile *f = (vfile *)p;                                                             \
    int rc = flush(f);                                                                 \
    return rc != SQLITE_OK ? rc : f->real->pMethods->call

static int w_read(sqlite3_file *p, void *d, int amt, sqlite3_int64 off)
{
    FLUSHED(xRead(f->real, d, amt, off));
}
static int w_truncate(sqlite3_file *p, sqlite3_int64 size)
{
    FLUSHED(xTruncate(f->real, size));
}
static int w_sync(sqlite3_file *p, int flags)
{
    FLUSHED(xSync(f->real, flags));
}
static int w_file_size(sqlite3_file *p, sqlite3_int64 *size)
{
    FLUSHED(xFileSize(f->real, size));
}
static int w_lock(sqlite3_file *p, int level)
{
    FLUSHED(xLock(f->real, level));
}
static int w_unlock(sqlite3_file *p, int level)
{
    FLUSHED(xUnlock(f->real, level));
}
static int w_check_reserved(sqlite3_file *p, int *out)
{
    FLUSHED(xCheckReservedLock(f->real, out));
}
static int w_file_control(sqlite3_file *p, int op, void *arg)
{
    FLUSHED(xFileControl(f->real, op, arg));
}
static int w_sector_size(sqlite3_file *p)
{
    vfile *f = (vfile *)p;
    return f->real->pMethods->xSectorSize(f->real);
}
static int w_device(sqlite3_file *p)
{
    vfile *f = (vfile *)p;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}
/* shared memory and memory maps: the database file's (the outbox's
 * exclusive lock keeps the WAL index in memory: no shared memory) */
static int version(vfile *f)
{
    return f->real->pMethods->iVersion;
}
static int w_shm_map(sqlite3_file *p, int pg, int pgsz, int extend, void volatile **pp)
{
    if (version((vfile *)p) < 2)
        return SQLITE_IOERR_SHMMAP;
    FLUSHED(xShmMap(f->real, pg, pgsz, extend, pp));
}
static int w_shm_lock(sqlite3_file *p, int off, int n, int flags)
{
    if (version((vfile *)p) < 2)
        return SQLITE_IOERR_SHMLOCK;
    FLUSHED(xShmLock(f->real, off, n, flags));
}
static void w_shm_barrier(sqlite3_file *p)
{
    vfile *f = (vfile *)p;
    if (version(f) >= 2)
        f->real->pMethods->xShmBarrier(f->real);
}
static int w_shm_unmap(sqlite3_file *p, int del)
{
    if (version((vfile *)p) < 2)
        return SQLITE_OK;
    FLUSHED(xShmUnmap(f->real, del));
}
static int w_fetch(sqlite3_file *p, sqlite3_int64 off, int amt, void **pp)
{
    *pp = NULL; /* no map: SQLite reads instead */
    if (version((vfile *)p) < 3)
        return SQLITE_OK;
    FLUSHED(xFetch(f->real, off, amt, pp));
}
static int w_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page)
{
    if (version((vfile *)p) < 3)
        return SQLITE_OK;
    FLUSHED(xUnfetch(f->real, off, page));
}

/* Version 3; a real file of an older version has the calls it lacks
 * answered as SQLite's own VFSes answer them (version()). */
static const sqlite3_io_methods methods = {
    3,          w_close,     w_read,         w_write,          w_truncate,
    w_sync,     w_file_size, w_lock,         w_unlock,         w_check_reserved,
    w_file_control, w_sector_size, w_device, w_shm_map, w_shm_lock,
    w_shm_barrier, w_shm_unmap, w_fetch,     w_unfetch,
};

/* ---- the VFS: the real one's, with its files wrapped -------------------- */

static int v_open(sqlite3_vfs *v, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
    ll_sq_vfs *owner = v->pAppData;
    vfile *f = (vfile *)p;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    f->owner = owner;
    f->held_at = -1;
    int rc = owner->real->xOpen(owner->real, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        /* SQLite calls xClose only when pMethods is set */
        f->base.pMethods = NULL;
        return rc;
    }
    /* the held header is the WAL's alone; every file is wrapped, as
     * SQLite calls the methods with the pointer it gave */
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->base.pMethods = &methods;
    return rc;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    return real_of(v)->xDelete(real_of(v), name, sync_dir);
}
static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    return real_of(v)->xAccess(real_of(v), name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    return real_of(v)->xFullPathname(real_of(v), name, n, out);
}
static void *v_dl_open(sqlite3_vfs *v, const char *name)
{
    return real_of(v)->xDlOpen(real_of(v), name);
}
static void v_dl_error(sqlite3_vfs *v, int n, char *out)
{
    real_of(v)->xDlError(real_of(v), n, out);
}
static void (*v_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    return real_of(v)->xDlSym(real_of(v), h, sym);
}
static void v_dl_close(sqlite3_vfs *v, void *h)
{
    real_of(v)->xDlClose(real_of(v), h);
}
static int v_randomness(sqlite3_vfs *v, int n, char *out)
{
    return real_of(v)->xRandomness(real_of(v), n, out);
}
static int v_sleep(sqlite3_vfs *v, int us)
{
    return real_of(v)->xSleep(real_of(v), us);
}
static int v_current_time(sqlite3_vfs *v, double *out)
{
    return real_of(v)->xCurrentTime(real_of(v), out);
}
static int v_last_error(sqlite3_vfs *v, int n, char *out)
{
    return real_of(v)->xGetLastError(real_of(v), n, out);
}
static int v_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    return real_of(v)->xCurrentTimeInt64(real_of(v), out);
}

int ll_sq_vfs_open(ll_sq_vfs *v)
{
    sqlite3_vfs *real = sqlite3_vfs_find(NULL);
    /* version 2 is what this VFS forwards (xCurrentTimeInt64); the
     * system-call overrides of version 3 are left out */
    if (!real || real->iVersion < 2)
        return SQLITE_ERROR;
    memset(v, 0, sizeof(*v));
    v->real = real;
    snprintf(v->name, sizeof(v->name), "lifeline-outbox-%p", (void *)v);
    sqlite3_vfs *s = &v->vfs;
    s->iVersion = 2;
    s->szOsFile = (int)sizeof(vfile) + real->szOsFile;
    s->mxPathname = real->mxPathname;
    s->zName = v->name;
    s->pAppData = v;
    s->xOpen = v_open;
    s->xDelete = v_delete;
    s->xAccess = v_access;
    s->xFullPathname = v_full_pathname;
    s->xDlOpen = v_dl_open;
    s->xDlError = v_dl_error;
    s->xDlSym = v_dl_sym;
    s->xDlClose = v_dl_close;
    s->xRandomness = v_randomness;
    s->xSleep = v_sleep;
    s->xCurrentTime = v_current_time;
    s->xGetLastError = v_last_error;
    s->xCurrentTimeInt64 = v_current_time64;
    int rc = sqlite3_vfs_register(s, 0);
    v->registered = rc == SQLITE_OK;
    return rc;
}

void ll_sq_vfs_close(ll_sq_vfs *v)
{
    if (v->registered)
        sqlite3_vfs_unregister(&v->vfs);
    v->registered = 0;
}
