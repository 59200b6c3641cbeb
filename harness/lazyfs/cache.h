// The table of files with unsynced data, keyed by backing inode, behind one mutex (FUSE calls
// us from several threads). Keyed by inode, not path, so a rename moves a file's cache with it
// and hard links share one; the FUSE operations in lazyfs.c only ever name a file by its id
// and a descriptor of it.
#ifndef LAZYFS_CACHE_H
#define LAZYFS_CACHE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct file_id {
  dev_t dev;
  ino_t ino;
};

/** What a control command touched: files, and bytes of unsynced data. */
struct cache_totals {
  size_t files;
  size_t bytes;
};

static inline struct file_id file_id_of(const struct stat *st) {
  struct file_id id = {.dev = st->st_dev, .ino = st->st_ino};
  return id;
}

/** A handle of the file was opened / released (an unlinked file's cache lives until the last). */
void cache_opened(struct file_id id);
void cache_released(struct file_id id);
/** The file lost its last name: its cache goes now, or with its last open handle. */
void cache_unlinked(struct file_id id);

/**
 * Stats a file as the mount shows it: the backing file's attributes, with size, blocks and
 * times from its unsynced state when it has one. `name` NULL: fstat(`fd`); else
 * fstatat(`fd`, `name`) without following a symlink. Under the lock, so a write-back in
 * progress (the backing file cut, then extended run by run) is never seen half done: the
 * kernel takes a size it sees as the file's, drops the pages beyond it, and a reader there
 * would see EOF, an mmap of it SIGBUS. 0 or -errno.
 */
int cache_stat(int fd, const char *name, struct stat *st);
/** A utimens reached the backing file: the mount shows these times from now on. */
void cache_set_times(const struct stat *backing);

/** `fd`: any descriptor of the backing file (the cache reopens its own on first use). */
int cache_write(struct file_id id, int fd, const char *buf, size_t len, off_t off);
ssize_t cache_read(struct file_id id, int fd, char *buf, size_t len, off_t off);
/** A truncate, O_TRUNC, or (grow_only) an fallocate that extends the file. */
int cache_resize(struct file_id id, int fd, off_t size, int grow_only);

/**
 * Writes the file's unsynced state to the backing file and forgets it; the caller then
 * fsyncs its own descriptor (outside the lock: once written back, the data is in the backing
 * file, where a loss no longer reaches it). 0 or -errno.
 */
int cache_write_back(struct file_id id);

/** Drops every unsynced write and truncate, of every file (the power loss). */
struct cache_totals cache_lose_all(void);
/** Writes back and fsyncs every file; 0 or the first -errno (the others are still tried). */
int cache_sync_all(struct cache_totals *out);
/** What is unsynced now, changing nothing. */
struct cache_totals cache_status(void);
/** A clean unmount: sync_all, then frees every table entry (idempotent). */
int cache_shutdown(struct cache_totals *out);

#endif
