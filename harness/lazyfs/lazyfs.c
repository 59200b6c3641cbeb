// lazyfs: a FUSE passthrough of a backing directory that keeps file data written through it in
// memory until the file is fsynced, and drops it on command: a power loss, for any program
// (Node, Go, Java) without touching it. SIGKILL alone cannot show this, since the kernel's page
// cache keeps whatever a killed process wrote.
//
//   lazyfs --backing=DIR --control=FIFO --reply=PATH [-o allow_other,fsname=TAG...] MOUNTPOINT
//
// Control lines on FIFO: `lose-unsynced` (drop every cached write and truncate), `sync-all`
// (write everything back and fsync it), `status`; each gets one JSON line on PATH, e.g.
// {"cmd":"lose-unsynced","files":3,"bytes":12345}. A clean unmount writes everything back.
//
// What is cached and what is not (a deliberate simplification, as on ext4 without
// auto_da_alloc): file DATA (writes, truncates, O_TRUNC, size-changing fallocate) waits for an
// fsync or fdatasync of the file; METADATA (create, mkdir, unlink, rename, link, rmdir, chmod,
// chown, utimens) goes to the backing directory at once. So a file created and written but
// never fsynced comes back EMPTY after a loss, and a rename is never undone; the cache is keyed
// by inode, so a renamed file keeps its unsynced data under its new name.
//
// The layers: overlay.c (one file's unsynced bytes), cache.c (the table of them, one mutex),
// control.c (the command FIFO), and here the FUSE operations and main().
#define FUSE_USE_VERSION 314
#define _GNU_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "control.h"

/** The backing directory, opened before the mount: every path is resolved relative to it. */
static int backing_dir = -1;

/** An open file: our descriptor of the backing file and the inode the cache knows it by. */
struct handle {
  int fd;
  struct file_id id;
  /** Opened O_SYNC or O_DSYNC: each write is durable before it returns. */
  int sync_writes;
};

static struct handle *handle_of(const struct fuse_file_info *fi) {
  return (struct handle *)(uintptr_t)fi->fh;
}

/** A FUSE path ("/a/b") as a path relative to the backing directory ("a/b", "." for "/"). */
static const char *rel(const char *path) { return path[1] != '\0' ? path + 1 : "."; }

static int fail(void) { return -errno; }

/** Gives a new object to the caller, not to the root daemon that made it. */
static void own_by_caller(const char *path) {
  struct fuse_context *who = fuse_get_context();
  if (who->uid != 0 || who->gid != 0) {
    fchownat(backing_dir, rel(path), who->uid, who->gid, AT_SYMLINK_NOFOLLOW);
  }
}

static void *lz_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  // Writes must reach us when write() returns: with the kernel's writeback cache they would
  // wait in the page cache, where a killed writer's data survives, which is what we model away.
  conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
  // Attributes are asked for every time, and with auto_inval_data the kernel then drops cached
  // pages whose size or mtime changed: after a loss no reader sees the dropped data, even
  // through a descriptor opened before it.
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->kernel_cache = 0;
  conn->want |= conn->capable & FUSE_CAP_AUTO_INVAL_DATA;
  // Unlink really unlinks (no .fuse_hidden files left in the backing directory); operations
  // on an open unlinked file then come with a NULL path and its handle.
  cfg->hard_remove = 1;
  cfg->nullpath_ok = 1;
  return NULL;
}

/** The unmount could not write everything back: the exit status says so (data was lost). */
static int shutdown_failed = 0;

static void lz_destroy(void *private_data) {
  (void)private_data;
  struct cache_totals totals = {0, 0};
  int r = cache_shutdown(&totals);
  if (r < 0) {
    fprintf(stderr, "lazyfs: writing back at unmount failed: %s\n", strerror(-r));
    shutdown_failed = 1;
  }
}

static int lz_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  return fi != NULL ? cache_stat(handle_of(fi)->fd, NULL, st)
                    : cache_stat(backing_dir, rel(path), st);
}

static int lz_readlink(const char *path, char *buf, size_t size) {
  ssize_t n = readlinkat(backing_dir, rel(path), buf, size - 1);
  if (n < 0) return fail();
  buf[n] = '\0';
  return 0;
}

static int lz_mknod(const char *path, mode_t mode, dev_t rdev) {
  int r = S_ISFIFO(mode) ? mkfifoat(backing_dir, rel(path), mode)
                         : mknodat(backing_dir, rel(path), mode, rdev);
  if (r < 0) return fail();
  own_by_caller(path);
  return 0;
}

static int lz_mkdir(const char *path, mode_t mode) {
  if (mkdirat(backing_dir, rel(path), mode) < 0) return fail();
  own_by_caller(path);
  return 0;
}

static int lz_symlink(const char *target, const char *path) {
  if (symlinkat(target, backing_dir, rel(path)) < 0) return fail();
  own_by_caller(path);
  return 0;
}

/** The regular file `path` names if this name is its last link (its cache must go with it). */
static int last_link(const char *path, struct file_id *id) {
  struct stat st;
  if (fstatat(backing_dir, rel(path), &st, AT_SYMLINK_NOFOLLOW) < 0) return 0;
  if (!S_ISREG(st.st_mode) || st.st_nlink != 1) return 0;
  *id = file_id_of(&st);
  return 1;
}

static int lz_unlink(const char *path) {
  struct file_id id;
  int was_last = last_link(path, &id);
  if (unlinkat(backing_dir, rel(path), 0) < 0) return fail();
  if (was_last) cache_unlinked(id);
  return 0;
}

static int lz_rmdir(const char *path) {
  return unlinkat(backing_dir, rel(path), AT_REMOVEDIR) < 0 ? fail() : 0;
}

static int lz_rename(const char *from, const char *to, unsigned int flags) {
  // A rename over an existing file unlinks it, unless the two are exchanged or are one file
  // (rename(a, a) changes nothing).
  struct file_id victim, moved;
  int replaces = !(flags & RENAME_EXCHANGE) && last_link(to, &victim);
  if (replaces && last_link(from, &moved) && moved.dev == victim.dev && moved.ino == victim.ino) {
    replaces = 0;
  }
  if (renameat2(backing_dir, rel(from), backing_dir, rel(to), flags) < 0) return fail();
  if (replaces) cache_unlinked(victim);
  return 0;
}

static int lz_link(const char *from, const char *to) {
  return linkat(backing_dir, rel(from), backing_dir, rel(to), 0) < 0 ? fail() : 0;
}

static int lz_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  int r = fi != NULL ? fchmod(handle_of(fi)->fd, mode) : fchmodat(backing_dir, rel(path), mode, 0);
  return r < 0 ? fail() : 0;
}

static int lz_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  int r = fi != NULL ? fchown(handle_of(fi)->fd, uid, gid)
                     : fchownat(backing_dir, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
  return r < 0 ? fail() : 0;
}

static int lz_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (fi != NULL) return cache_resize(handle_of(fi)->id, handle_of(fi)->fd, size, 0);
  struct stat st;
  if (fstatat(backing_dir, rel(path), &st, 0) < 0) return fail();
  if (S_ISDIR(st.st_mode)) return -EISDIR;
  if (!S_ISREG(st.st_mode)) return -EINVAL;
  int fd = openat(backing_dir, rel(path), O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail();
  int r = cache_resize(file_id_of(&st), fd, size, 0);
  close(fd);
  return r;
}

static int lz_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  struct stat st;
  int r = fi != NULL ? futimens(handle_of(fi)->fd, tv)
                     : utimensat(backing_dir, rel(path), tv, AT_SYMLINK_NOFOLLOW);
  if (r < 0) return fail();
  r = fi != NULL ? fstat(handle_of(fi)->fd, &st)
                 : fstatat(backing_dir, rel(path), &st, AT_SYMLINK_NOFOLLOW);
  if (r == 0) cache_set_times(&st);
  return 0;
}

/**
 * Wraps a backing descriptor as a FUSE handle. O_TRUNC is applied in the cache (a truncate is
 * data, lost with the rest); the backing file was opened without it, O_APPEND (the kernel
 * gives every write its offset) and O_DIRECT (we serve from memory, unaligned).
 */
static int attach(int fd, int flags, struct fuse_file_info *fi) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int r = fail();
    close(fd);
    return r;
  }
  struct handle *h = malloc(sizeof *h);
  if (h == NULL) {
    close(fd);
    return -ENOMEM;
  }
  h->fd = fd;
  h->id = file_id_of(&st);
  h->sync_writes = (flags & (O_SYNC | O_DSYNC)) != 0;
  if ((flags & O_TRUNC) && S_ISREG(st.st_mode)) {
    int r = cache_resize(h->id, fd, 0, 0);
    if (r < 0) {
      close(fd);
      free(h);
      return r;
    }
  }
  cache_opened(h->id);
  fi->fh = (uintptr_t)h;
  return 0;
}

static int backing_flags(int flags) {
  return (flags & ~(O_TRUNC | O_APPEND | O_DIRECT | O_CREAT | O_EXCL)) | O_CLOEXEC;
}

static int lz_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  // O_EXCL first, to know whether we made the file (and so must give it to the caller).
  int fd = openat(backing_dir, rel(path), backing_flags(fi->flags) | O_CREAT | O_EXCL, mode);
  if (fd >= 0) {
    own_by_caller(path);
  } else if (errno == EEXIST && !(fi->flags & O_EXCL)) {
    fd = openat(backing_dir, rel(path), backing_flags(fi->flags));
  }
  if (fd < 0) return fail();
  return attach(fd, fi->flags, fi);
}

static int lz_open(const char *path, struct fuse_file_info *fi) {
  int fd = openat(backing_dir, rel(path), backing_flags(fi->flags));
  if (fd < 0) return fail();
  return attach(fd, fi->flags, fi);
}

static int lz_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = handle_of(fi);
  return (int)cache_read(h->id, h->fd, buf, size, off);
}

/**
 * How long an fsync takes before it writes anything back (--sync-delay-ms): a real disk's
 * flush is not instant, and that time is the window in which a power loss takes what a
 * program wrote but has not yet seen synced. Slept outside every lock.
 */
static unsigned sync_delay_ms = 0;

/** Makes the file's unsynced state durable: written back (then beyond a loss), then synced. */
static int sync_file(struct handle *h, int datasync) {
  if (sync_delay_ms > 0) {
    struct timespec delay = {sync_delay_ms / 1000, (long)(sync_delay_ms % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) < 0 && errno == EINTR) {
    }
  }
  int r = cache_write_back(h->id);
  if (r < 0) return r;
  return (datasync ? fdatasync(h->fd) : fsync(h->fd)) < 0 ? fail() : 0;
}

static int lz_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = handle_of(fi);
  int r = cache_write(h->id, h->fd, buf, size, off);
  if (r == 0 && h->sync_writes) r = sync_file(h, 1);
  return r < 0 ? r : (int)size;
}

static int lz_statfs(const char *path, struct statvfs *st) {
  (void)path;
  return fstatvfs(backing_dir, st) < 0 ? fail() : 0;
}

/** close() is no sync: data written and closed is still lost unless fsynced. */
static int lz_flush(const char *path, struct fuse_file_info *fi) {
  (void)path;
  (void)fi;
  return 0;
}

static int lz_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = handle_of(fi);
  cache_released(h->id);
  close(h->fd);
  free(h);
  return 0;
}

static int lz_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  return sync_file(handle_of(fi), datasync);
}

static int lz_fallocate(const char *path, int mode, off_t off, off_t len,
                        struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = handle_of(fi);
  // Reserving space changes no data: straight to the backing file. Growing the size is data.
  if (mode == FALLOC_FL_KEEP_SIZE) return fallocate(h->fd, mode, off, len) < 0 ? fail() : 0;
  if (mode != 0) return -EOPNOTSUPP;
  return cache_resize(h->id, h->fd, off + len, 1);
}

static int lz_opendir(const char *path, struct fuse_file_info *fi) {
  int fd = openat(backing_dir, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail();
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    int r = fail();
    close(fd);
    return r;
  }
  fi->fh = (uintptr_t)dir;
  return 0;
}

static int lz_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)path;
  (void)flags;
  DIR *dir = (DIR *)(uintptr_t)fi->fh;
  if (off != telldir(dir)) seekdir(dir, off);
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) return errno != 0 ? fail() : 0;
    struct stat st = {.st_ino = entry->d_ino, .st_mode = (mode_t)DTTOIF(entry->d_type)};
    if (fill(buf, entry->d_name, &st, telldir(dir), 0) != 0) return 0;
  }
}

static int lz_releasedir(const char *path, struct fuse_file_info *fi) {
  (void)path;
  closedir((DIR *)(uintptr_t)fi->fh);
  return 0;
}

/** Names are never cached, so this only passes the directory's fsync on to the backing one. */
static int lz_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  int fd = dirfd((DIR *)(uintptr_t)fi->fh);
  return (datasync ? fdatasync(fd) : fsync(fd)) < 0 ? fail() : 0;
}

static const struct fuse_operations operations = {
    .init = lz_init,
    .destroy = lz_destroy,
    .getattr = lz_getattr,
    .readlink = lz_readlink,
    .mknod = lz_mknod,
    .mkdir = lz_mkdir,
    .symlink = lz_symlink,
    .unlink = lz_unlink,
    .rmdir = lz_rmdir,
    .rename = lz_rename,
    .link = lz_link,
    .chmod = lz_chmod,
    .chown = lz_chown,
    .truncate = lz_truncate,
    .utimens = lz_utimens,
    .create = lz_create,
    .open = lz_open,
    .read = lz_read,
    .write = lz_write,
    .statfs = lz_statfs,
    .flush = lz_flush,
    .release = lz_release,
    .fsync = lz_fsync,
    .fallocate = lz_fallocate,
    .opendir = lz_opendir,
    .readdir = lz_readdir,
    .releasedir = lz_releasedir,
    .fsyncdir = lz_fsyncdir,
};

/** One control command; the reply is a JSON object on one line. */
static void run_command(const char *command, char *reply, size_t size) {
  struct cache_totals totals = {0, 0};
  int r = 0;
  if (strcmp(command, "lose-unsynced") == 0) {
    totals = cache_lose_all();
  } else if (strcmp(command, "sync-all") == 0) {
    r = cache_sync_all(&totals);
  } else if (strcmp(command, "status") == 0) {
    totals = cache_status();
  } else {
    snprintf(reply, size,
             "{\"cmd\":null,\"error\":\"unknown command (lose-unsynced, sync-all, status)\"}");
    return;
  }
  if (r < 0) {
    snprintf(reply, size, "{\"cmd\":\"%s\",\"files\":%zu,\"bytes\":%zu,\"error\":\"%s\"}", command,
             totals.files, totals.bytes, strerror(-r));
  } else {
    snprintf(reply, size, "{\"cmd\":\"%s\",\"files\":%zu,\"bytes\":%zu}", command, totals.files,
             totals.bytes);
  }
}

struct options {
  char *backing;
  char *control;
  char *reply;
  unsigned sync_delay_ms;
};

static const struct fuse_opt option_spec[] = {
    {"--backing=%s", offsetof(struct options, backing), 1},
    {"--control=%s", offsetof(struct options, control), 1},
    {"--reply=%s", offsetof(struct options, reply), 1},
    {"--sync-delay-ms=%u", offsetof(struct options, sync_delay_ms), 0},
    FUSE_OPT_END,
};

int main(int argc, char *argv[]) {
  struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
  struct options opts = {NULL, NULL, NULL, 0};
  int status = 1;
  if (fuse_opt_parse(&args, &opts, option_spec, NULL) < 0) goto out;
  if (opts.backing == NULL || opts.control == NULL || opts.reply == NULL) {
    fprintf(stderr, "lazyfs: usage: lazyfs --backing=DIR --control=FIFO --reply=PATH "
                    "[--sync-delay-ms=N] [FUSE options] MOUNTPOINT\n");
    status = 2;
    goto out;
  }
  sync_delay_ms = opts.sync_delay_ms;
  // Modes come from the kernel with the caller's umask applied; ours must not mask them again.
  umask(0);
  backing_dir = open(opts.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (backing_dir < 0) {
    fprintf(stderr, "lazyfs: backing directory %s: %s\n", opts.backing, strerror(errno));
    goto out;
  }
  char error[512];
  if (control_start(opts.control, opts.reply, run_command, error, sizeof error) < 0) {
    fprintf(stderr, "lazyfs: %s\n", error);
    goto out;
  }
  // In the foreground always: the caller owns this process by its PID.
  // Bounded worker threads (libfuse 3.14 warns about its own default idle-thread limit).
  if (fuse_opt_add_arg(&args, "-f") < 0 ||
      fuse_opt_add_arg(&args, "-omax_threads=16,max_idle_threads=8") < 0) {
    goto out;
  }
  status = fuse_main(args.argc, args.argv, &operations, NULL);
  if (status == 0 && shutdown_failed) status = 1;
out:
  control_stop();
  cache_shutdown(NULL); // a no-op after a mount's own destroy; frees the table otherwise
  if (backing_dir >= 0) close(backing_dir);
  fuse_opt_free_args(&args);
  free(opts.backing);
  free(opts.control);
  free(opts.reply);
  return status;
}
