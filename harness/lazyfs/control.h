// The control channel: command lines read from a FIFO, one JSON reply line written for each
// (to a FIFO or an appended file), on a thread of its own, so the harness can drop or flush
// the cache while the filesystem serves its users.
#ifndef LAZYFS_CONTROL_H
#define LAZYFS_CONTROL_H

#include <stddef.h>

/** Runs one command line (no newline); writes its JSON reply (no newline) into `reply`. */
typedef void (*control_handler)(const char *command, char *reply, size_t reply_size);

/**
 * Creates the command FIFO (and the reply FIFO when `reply_path` does not exist), opens both
 * and starts the thread. 0, or -1 with a one-line reason in `error`.
 */
int control_start(const char *command_fifo, const char *reply_path, control_handler handler,
                  char *error, size_t error_size);
/** Stops the thread and closes the channel (idempotent). */
void control_stop(void);

#endif
