// The unsynced state of one file: the writes and truncates made through the mount since the
// file's last fsync, laid over the backing file's durable bytes. Pure bookkeeping: no locking,
// no FUSE; cache.c owns the lock and decides when an overlay is written back or dropped.
#ifndef LAZYFS_OVERLAY_H
#define LAZYFS_OVERLAY_H

#include <stddef.h>
#include <sys/types.h>

/** A run of bytes written through the mount and not yet synced. */
struct extent {
  off_t off;
  size_t len;
  /** Allocated bytes of `data`: grown geometrically, so a stream of appends copies O(n). */
  size_t cap;
  char *data;
};

struct overlay {
  /** The size readers see: every write and truncate since the last sync applied. */
  off_t size;
  /**
   * Bytes [0, backing_kept) of the backing file still show through: the backing size when the
   * overlay was made, lowered by every truncate since. Beyond it (and beyond the extents) a
   * read sees zeros, as after a real truncate then extension.
   */
  off_t backing_kept;
  /** Sorted by offset, disjoint and never adjacent (touching writes are merged). */
  struct extent *extents;
  size_t count;
  size_t cap;
};

/** An overlay that changes nothing yet over a backing file of this size. */
void overlay_init(struct overlay *o, off_t backing_size);
void overlay_free(struct overlay *o);

/** Records a write; 0, or -ENOMEM (the overlay is then unchanged). */
int overlay_write(struct overlay *o, const char *buf, size_t len, off_t off);
/** Records a truncate (or an extension: the new bytes read as zeros). */
void overlay_truncate(struct overlay *o, off_t size);
/** Reads the merged view: extents over the kept backing bytes over zeros; bytes or -errno. */
ssize_t overlay_read(const struct overlay *o, int backing_fd, char *buf, size_t len, off_t off);
/** Makes the backing file hold the merged view (not synced: the caller syncs); 0 or -errno. */
int overlay_apply(const struct overlay *o, int backing_fd);
/** Bytes of unsynced data held (what a loss drops). */
size_t overlay_bytes(const struct overlay *o);

#endif
