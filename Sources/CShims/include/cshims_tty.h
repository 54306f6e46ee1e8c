// Terminal and signalfd calls that Swift's Glibc module does not expose. No policy here.
#ifndef CELLA_CSHIMS_TTY_H
#define CELLA_CSHIMS_TTY_H

#include <signal.h>
#include <stdint.h>
#include <termios.h>

/// signalfd(2) for `mask`, non-blocking and close-on-exec.
int cella_signalfd(const sigset_t *mask);

/// Reads one signalfd record; returns the signal number, 0 if none is pending, -1 on error.
int cella_signalfd_read(int fd);

/// Opens a new pty master from `ptmx_path` and unlocks it; returns the master fd or -1.
int cella_pty_open(const char *ptmx_path);

/// Opens the slave of a master (TIOCGPTPEER) without a path lookup.
int cella_pty_peer(int master);

/// Makes `fd` the controlling terminal of the calling session leader.
int cella_set_ctty(int fd);

/// Sets / gets the window size of a terminal.
int cella_set_winsize(int fd, uint16_t rows, uint16_t cols);
int cella_get_winsize(int fd, uint16_t *rows, uint16_t *cols);

/// Puts a terminal in raw mode, saving the old mode in *saved.
int cella_make_raw(int fd, struct termios *saved);

/// Restores a saved terminal mode.
int cella_restore_mode(int fd, const struct termios *saved);

#endif
