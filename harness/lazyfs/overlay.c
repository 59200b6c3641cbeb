// One file's unsynced writes and truncates (see overlay.h). Appends, the common case of a
// log, land at the end of the last extent and grow it in place.
#define _GNU_SOURCE
#include "overlay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static off_t extent_end(const struct extent *e) { return e->off + (off_t)e->len; }

void overlay_init(struct overlay *o, off_t backing_size) {
  memset(o, 0, sizeof *o);
  o->size = backing_size;
  o->backing_kept = backing_size;
}

void overlay_free(struct overlay *o) {
  for (size_t i = 0; i < o->count; i++) free(o->extents[i].data);
  free(o->extents);
  memset(o, 0, sizeof *o);
}

/** The first extent that ends at or after `off` (so it touches or follows it). */
static size_t first_touching(const struct overlay *o, off_t off) {
  size_t lo = 0, hi = o->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (extent_end(&o->extents[mid]) < off) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/** Makes room for `need` bytes in `e`, doubling so repeated appends stay linear. */
static int reserve(struct extent *e, size_t need) {
  if (need <= e->cap) return 0;
  size_t cap = e->cap * 2 > need ? e->cap * 2 : need;
  if (cap < 4096) cap = 4096;
  char *data = realloc(e->data, cap);
  if (data == NULL) return -ENOMEM;
  e->data = data;
  e->cap = cap;
  return 0;
}

static int insert_extent(struct overlay *o, size_t at, const char *buf, size_t len, off_t off) {
  if (o->count == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 8;
    struct extent *grown = realloc(o->extents, cap * sizeof *grown);
    if (grown == NULL) return -ENOMEM;
    o->extents = grown;
    o->cap = cap;
  }
  struct extent e = {.off = off, .len = len, .cap = 0, .data = NULL};
  if (reserve(&e, len) < 0) return -ENOMEM;
  memcpy(e.data, buf, len);
  memmove(&o->extents[at + 1], &o->extents[at], (o->count - at) * sizeof e);
  o->extents[at] = e;
  o->count++;
  return 0;
}

int overlay_write(struct overlay *o, const char *buf, size_t len, off_t off) {
  if (len == 0) return 0;
  off_t end = off + (off_t)len;
  size_t first = first_touching(o, off);
  size_t last = first; // one past the last extent the write touches
  while (last < o->count && o->extents[last].off <= end) last++;
  if (first == last) {
    int r = insert_extent(o, first, buf, len, off);
    if (r < 0) return r;
  } else {
    // Merge every touched extent and the write into one, kept in the first extent's slot.
    struct extent *head = &o->extents[first];
    off_t lo = off < head->off ? off : head->off;
    off_t tail_end = extent_end(&o->extents[last - 1]);
    off_t hi = end > tail_end ? end : tail_end;
    size_t merged_len = (size_t)(hi - lo);
    if (lo == head->off) {
      if (reserve(head, merged_len) < 0) return -ENOMEM;
    } else {
      // The write starts before the head: build the merged run in a fresh buffer.
      struct extent fresh = {.off = lo, .len = 0, .cap = 0, .data = NULL};
      if (reserve(&fresh, merged_len) < 0) return -ENOMEM;
      memcpy(fresh.data + (head->off - lo), head->data, head->len);
      free(head->data);
      head->data = fresh.data;
      head->cap = fresh.cap;
      head->off = lo;
    }
    for (size_t i = first + 1; i < last; i++) {
      struct extent *e = &o->extents[i];
      memcpy(head->data + (e->off - lo), e->data, e->len);
      free(e->data);
    }
    memcpy(head->data + (off - lo), buf, len);
    head->len = merged_len;
    memmove(&o->extents[first + 1], &o->extents[last], (o->count - last) * sizeof *head);
    o->count -= last - first - 1;
  }
  if (end > o->size) o->size = end;
  return 0;
}

void overlay_truncate(struct overlay *o, off_t size) {
  if (size < o->size) {
    size_t keep = 0;
    while (keep < o->count && o->extents[keep].off < size) keep++;
    for (size_t i = keep; i < o->count; i++) free(o->extents[i].data);
    o->count = keep;
    if (keep > 0 && extent_end(&o->extents[keep - 1]) > size) {
      o->extents[keep - 1].len = (size_t)(size - o->extents[keep - 1].off);
    }
  }
  if (size < o->backing_kept) o->backing_kept = size;
  o->size = size;
}

ssize_t overlay_read(const struct overlay *o, int backing_fd, char *buf, size_t len, off_t off) {
  if (off >= o->size) return 0;
  if ((off_t)len > o->size - off) len = (size_t)(o->size - off);
  off_t end = off + (off_t)len;
  size_t filled = 0;
  // The backing bytes that still show through, then zeros up to the end.
  off_t backing_end = end < o->backing_kept ? end : o->backing_kept;
  while (off + (off_t)filled < backing_end) {
    ssize_t n = pread(backing_fd, buf + filled, (size_t)(backing_end - off) - filled,
                      off + (off_t)filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) break; // shorter than recorded (changed behind our back): zeros below
    filled += (size_t)n;
  }
  memset(buf + filled, 0, len - filled);
  for (size_t i = first_touching(o, off); i < o->count && o->extents[i].off < end; i++) {
    const struct extent *e = &o->extents[i];
    off_t from = e->off > off ? e->off : off;
    off_t to = extent_end(e) < end ? extent_end(e) : end;
    if (to > from) memcpy(buf + (from - off), e->data + (from - e->off), (size_t)(to - from));
  }
  return (ssize_t)len;
}

static int write_all(int fd, const char *buf, size_t len, off_t off) {
  while (len > 0) {
    ssize_t n = pwrite(fd, buf, len, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    buf += n;
    len -= (size_t)n;
    off += n;
  }
  return 0;
}

int overlay_apply(const struct overlay *o, int backing_fd) {
  struct stat st;
  if (fstat(backing_fd, &st) < 0) return -errno;
  // Cut first, so bytes a truncate hid do not reappear inside a later extension.
  if (st.st_size > o->backing_kept && ftruncate(backing_fd, o->backing_kept) < 0) return -errno;
  for (size_t i = 0; i < o->count; i++) {
    const struct extent *e = &o->extents[i];
    int r = write_all(backing_fd, e->data, e->len, e->off);
    if (r < 0) return r;
  }
  if (fstat(backing_fd, &st) < 0) return -errno;
  if (st.st_size != o->size && ftruncate(backing_fd, o->size) < 0) return -errno;
  return 0;
}

size_t overlay_bytes(const struct overlay *o) {
  size_t bytes = 0;
  for (size_t i = 0; i < o->count; i++) bytes += o->extents[i].len;
  return bytes;
}
