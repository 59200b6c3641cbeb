// The dirty-file table (see cache.h). Two singly linked lists under one mutex: the files with
// unsynced state (a handful at a time: a node's log, a snapshot being written) and the open
// counts per inode (needed only to know when an unlinked file's cache may go). A list walk is
// cheaper than the FUSE round trip around every call, so no hash table.
#define _GNU_SOURCE
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "overlay.h"

struct dirty_file {
  struct dirty_file *next;
  struct file_id id;
  /**
   * Our own read-write descriptor of the backing inode, so sync-all and unmount can write back
   * a file nobody has open any more, and an unlinked file stays readable while open.
   */
  int fd;
  struct overlay overlay;
  /** mtime and ctime the mount shows (the backing file's change only at write-back). */
  struct timespec mtime;
  struct timespec ctime;
};

struct open_count {
  struct open_count *next;
  struct file_id id;
  unsigned count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dirty_file *dirty;
static struct open_count *opens;

static bool same(struct file_id a, struct file_id b) { return a.dev == b.dev && a.ino == b.ino; }

static struct dirty_file **find_dirty(struct file_id id) {
  struct dirty_file **at = &dirty;
  while (*at != NULL && !same((*at)->id, id)) at = &(*at)->next;
  return at;
}

static struct open_count **find_open(struct file_id id) {
  struct open_count **at = &opens;
  while (*at != NULL && !same((*at)->id, id)) at = &(*at)->next;
  return at;
}

static void drop(struct dirty_file **at) {
  struct dirty_file *f = *at;
  *at = f->next;
  overlay_free(&f->overlay);
  close(f->fd);
  free(f);
}

static void touch(struct dirty_file *f) {
  clock_gettime(CLOCK_REALTIME, &f->mtime);
  f->ctime = f->mtime;
}

/** The file's entry, made on its first unsynced change; NULL with *error set. */
static struct dirty_file *dirty_of(struct file_id id, int fd, int *error) {
  struct dirty_file **at = find_dirty(id);
  if (*at != NULL) return *at;
  // Reopen through /proc rather than dup(): a dup shares the handle's O_APPEND and access
  // mode, and write-back needs plain positioned read-write access.
  char proc_path[64];
  snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
  struct dirty_file *f = calloc(1, sizeof *f);
  if (f == NULL) {
    *error = -ENOMEM;
    return NULL;
  }
  f->fd = open(proc_path, O_RDWR | O_CLOEXEC);
  struct stat st;
  if (f->fd < 0 || fstat(f->fd, &st) < 0) {
    *error = -errno;
    if (f->fd >= 0) close(f->fd);
    free(f);
    return NULL;
  }
  f->id = id;
  overlay_init(&f->overlay, st.st_size);
  f->mtime = st.st_mtim;
  f->ctime = st.st_ctim;
  f->next = dirty;
  dirty = f;
  return f;
}

void cache_opened(struct file_id id) {
  pthread_mutex_lock(&lock);
  struct open_count **at = find_open(id);
  if (*at == NULL) {
    struct open_count *c = calloc(1, sizeof *c);
    if (c != NULL) {
      c->id = id;
      c->next = opens;
      opens = c;
      at = &opens;
    }
  }
  if (*at != NULL) (*at)->count++;
  pthread_mutex_unlock(&lock);
}

void cache_released(struct file_id id) {
  pthread_mutex_lock(&lock);
  struct open_count **at = find_open(id);
  bool last = true;
  if (*at != NULL && --(*at)->count > 0) {
    last = false;
  } else if (*at != NULL) {
    struct open_count *c = *at;
    *at = c->next;
    free(c);
  }
  // A file without a name once its last handle goes is unreachable: its unsynced state too.
  // Asked of the inode itself, not remembered from an unlink: it may have been written only
  // after its last name went, or lost it by a rename over it.
  struct dirty_file **f = find_dirty(id);
  struct stat st;
  if (last && *f != NULL && fstat((*f)->fd, &st) == 0 && st.st_nlink == 0) drop(f);
  pthread_mutex_unlock(&lock);
}

void cache_unlinked(struct file_id id) {
  pthread_mutex_lock(&lock);
  struct dirty_file **f = find_dirty(id);
  // Still open: cache_released() drops it with the last handle.
  if (*f != NULL && *find_open(id) == NULL) drop(f);
  pthread_mutex_unlock(&lock);
}

int cache_stat(int fd, const char *name, struct stat *st) {
  pthread_mutex_lock(&lock);
  int r = name == NULL ? fstat(fd, st) : fstatat(fd, name, st, AT_SYMLINK_NOFOLLOW);
  if (r < 0) {
    r = -errno;
  } else if (S_ISREG(st->st_mode)) {
    struct dirty_file *f = *find_dirty(file_id_of(st));
    if (f != NULL) {
      st->st_size = f->overlay.size;
      st->st_blocks = (f->overlay.size + 511) / 512;
      st->st_mtim = f->mtime;
      st->st_ctim = f->ctime;
    }
  }
  pthread_mutex_unlock(&lock);
  return r;
}

void cache_set_times(const struct stat *backing) {
  pthread_mutex_lock(&lock);
  struct dirty_file *f = *find_dirty(file_id_of(backing));
  if (f != NULL) {
    f->mtime = backing->st_mtim;
    f->ctime = backing->st_ctim;
  }
  pthread_mutex_unlock(&lock);
}

int cache_write(struct file_id id, int fd, const char *buf, size_t len, off_t off) {
  int r = 0;
  pthread_mutex_lock(&lock);
  struct dirty_file *f = dirty_of(id, fd, &r);
  if (f != NULL) {
    r = overlay_write(&f->overlay, buf, len, off);
    if (r == 0) touch(f);
  }
  pthread_mutex_unlock(&lock);
  return r;
}

ssize_t cache_read(struct file_id id, int fd, char *buf, size_t len, off_t off) {
  pthread_mutex_lock(&lock);
  struct dirty_file *f = *find_dirty(id);
  if (f != NULL) {
    ssize_t n = overlay_read(&f->overlay, f->fd, buf, len, off);
    pthread_mutex_unlock(&lock);
    return n;
  }
  pthread_mutex_unlock(&lock);
  // Clean file: read the backing file outside the lock. A write racing this read may land
  // before or after it, as with any filesystem.
  for (;;) {
    ssize_t n = pread(fd, buf, len, off);
    if (n >= 0) return n;
    if (errno != EINTR) return -errno;
  }
}

/** Whether a resize of a file without unsynced state changes nothing; *error set on failure. */
static bool clean_resize_is_noop(int fd, off_t size, int grow_only, int *error) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    *error = -errno;
    return true;
  }
  // An O_TRUNC of an empty file, say: no entry, so a loss has nothing to report for it.
  return st.st_size == size || (grow_only && st.st_size > size);
}

int cache_resize(struct file_id id, int fd, off_t size, int grow_only) {
  int r = 0;
  pthread_mutex_lock(&lock);
  struct dirty_file *f = *find_dirty(id);
  if (f == NULL && !clean_resize_is_noop(fd, size, grow_only, &r)) f = dirty_of(id, fd, &r);
  if (f != NULL && !(grow_only && f->overlay.size >= size)) {
    overlay_truncate(&f->overlay, size);
    touch(f);
  }
  pthread_mutex_unlock(&lock);
  return r;
}

/**
 * Makes the backing file hold the entry's state, its modification time included: the writes
 * of a write-back are ours, not the program's, and must not make the file look modified at
 * its fsync (nor undo a time set on it since). 0 or -errno; the entry is kept.
 */
static int apply(struct dirty_file *f) {
  int r = overlay_apply(&f->overlay, f->fd);
  if (r < 0) return r;
  const struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, f->mtime};
  return futimens(f->fd, times) < 0 ? -errno : 0;
}

/** Writes one entry back; the entry stays on failure (a retry rewrites the same bytes). */
static int write_back(struct dirty_file **at) {
  int r = apply(*at);
  if (r == 0) drop(at);
  return r;
}

int cache_write_back(struct file_id id) {
  pthread_mutex_lock(&lock);
  struct dirty_file **at = find_dirty(id);
  int r = *at == NULL ? 0 : write_back(at);
  pthread_mutex_unlock(&lock);
  return r;
}

struct cache_totals cache_lose_all(void) {
  struct cache_totals out = {0, 0};
  pthread_mutex_lock(&lock);
  while (dirty != NULL) {
    out.files++;
    out.bytes += overlay_bytes(&dirty->overlay);
    drop(&dirty);
  }
  pthread_mutex_unlock(&lock);
  return out;
}

static int sync_all_locked(struct cache_totals *out) {
  int first_error = 0;
  struct dirty_file **at = &dirty;
  while (*at != NULL) {
    struct dirty_file *f = *at;
    size_t bytes = overlay_bytes(&f->overlay);
    int r = apply(f);
    if (r == 0 && fsync(f->fd) < 0) r = -errno;
    if (r < 0) {
      if (first_error == 0) first_error = r;
      at = &f->next; // kept: its data is still only here
      continue;
    }
    if (out != NULL) {
      out->files++;
      out->bytes += bytes;
    }
    drop(at);
  }
  return first_error;
}

int cache_sync_all(struct cache_totals *out) {
  pthread_mutex_lock(&lock);
  int r = sync_all_locked(out);
  pthread_mutex_unlock(&lock);
  return r;
}

struct cache_totals cache_status(void) {
  struct cache_totals out = {0, 0};
  pthread_mutex_lock(&lock);
  for (struct dirty_file *f = dirty; f != NULL; f = f->next) {
    out.files++;
    out.bytes += overlay_bytes(&f->overlay);
  }
  pthread_mutex_unlock(&lock);
  return out;
}

int cache_shutdown(struct cache_totals *out) {
  pthread_mutex_lock(&lock);
  int r = sync_all_locked(out);
  // What could not be written back is lost now (the caller reports the error): nothing else
  // would ever write it.
  while (dirty != NULL) drop(&dirty);
  while (opens != NULL) {
    struct open_count *c = opens;
    opens = c->next;
    free(c);
  }
  pthread_mutex_unlock(&lock);
  return r;
}
