// The control channel (see control.h). Both FIFOs are opened read-write: on Linux that never
// blocks, and holding both ends means the daemon never sees EOF when a caller closes its end,
// nor does the caller's open of the other end wait for us.
#define _GNU_SOURCE
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES 256
#define REPLY_MAX_BYTES 512

static int command_fd = -1;
static int reply_fd = -1;
/** Written once to wake the thread out of poll() at stop. */
static int stop_pipe[2] = {-1, -1};
static pthread_t thread;
static bool running;
static control_handler handle;

static void write_reply(const char *line) {
  char buf[REPLY_MAX_BYTES + 1];
  int len = snprintf(buf, sizeof buf, "%s\n", line);
  if (len < 0) return;
  if ((size_t)len >= sizeof buf) len = sizeof buf - 1;
  // One write of at most PIPE_BUF bytes: atomic, so a reader never sees half a line.
  while (write(reply_fd, buf, (size_t)len) < 0 && errno == EINTR) {
  }
}

static void run_line(char *line) {
  size_t len = strlen(line);
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ')) line[--len] = '\0';
  if (len == 0) return;
  char reply[REPLY_MAX_BYTES];
  handle(line, reply, sizeof reply);
  write_reply(reply);
}

static void *serve(void *unused) {
  (void)unused;
  char line[LINE_MAX_BYTES];
  size_t used = 0;
  bool overlong = false;
  struct pollfd fds[2] = {{.fd = command_fd, .events = POLLIN},
                          {.fd = stop_pipe[0], .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) break;
    char chunk[LINE_MAX_BYTES];
    ssize_t n = read(command_fd, chunk, sizeof chunk);
    if (n <= 0) continue;
    for (ssize_t i = 0; i < n; i++) {
      if (chunk[i] == '\n') {
        line[used] = '\0';
        if (overlong) {
          write_reply("{\"cmd\":null,\"error\":\"command line too long\"}");
        } else {
          run_line(line);
        }
        used = 0;
        overlong = false;
      } else if (used + 1 < sizeof line) {
        line[used++] = chunk[i];
      } else {
        overlong = true;
      }
    }
  }
  return NULL;
}

/** Makes `path` a FIFO unless it already is one; 0 or -errno. */
static int ensure_fifo(const char *path) {
  if (mkfifo(path, 0600) < 0 && errno != EEXIST) return -errno;
  struct stat st;
  if (stat(path, &st) < 0) return -errno;
  return S_ISFIFO(st.st_mode) ? 0 : -EEXIST;
}

int control_start(const char *command_fifo, const char *reply_path, control_handler handler,
                  char *error, size_t error_size) {
  int r = ensure_fifo(command_fifo);
  if (r < 0) {
    snprintf(error, error_size, "control FIFO %s: %s", command_fifo, strerror(-r));
    return -1;
  }
  command_fd = open(command_fifo, O_RDWR | O_CLOEXEC);
  if (command_fd < 0) {
    snprintf(error, error_size, "control FIFO %s: %s", command_fifo, strerror(errno));
    return -1;
  }
  struct stat st;
  if (stat(reply_path, &st) < 0) {
    r = errno == ENOENT ? ensure_fifo(reply_path) : -errno;
    if (r < 0) {
      snprintf(error, error_size, "reply FIFO %s: %s", reply_path, strerror(-r));
      control_stop();
      return -1;
    }
    st.st_mode = S_IFIFO;
  }
  reply_fd = S_ISFIFO(st.st_mode)
                 ? open(reply_path, O_RDWR | O_CLOEXEC)
                 : open(reply_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (reply_fd < 0 || pipe2(stop_pipe, O_CLOEXEC) < 0) {
    snprintf(error, error_size, "reply %s: %s", reply_path, strerror(errno));
    control_stop();
    return -1;
  }
  handle = handler;
  if ((r = pthread_create(&thread, NULL, serve, NULL)) != 0) {
    snprintf(error, error_size, "control thread: %s", strerror(r));
    control_stop();
    return -1;
  }
  running = true;
  return 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

void control_stop(void) {
  if (running) {
    while (write(stop_pipe[1], "x", 1) < 0 && errno == EINTR) {
    }
    pthread_join(thread, NULL);
    running = false;
  }
  close_fd(&command_fd);
  close_fd(&reply_fd);
  close_fd(&stop_pipe[0]);
  close_fd(&stop_pipe[1]);
}
