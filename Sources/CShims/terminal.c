#define _GNU_SOURCE
#include "cshims_tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

int cella_signalfd(const sigset_t *mask) { return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC); }

int cella_signalfd_read(int fd) {
  struct signalfd_siginfo info;
  ssize_t n = read(fd, &info, sizeof(info));
  if (n == (ssize_t)sizeof(info)) return (int)info.ssi_signo;
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  return -1;
}

int cella_pty_open(const char *ptmx_path) {
  int master = open(ptmx_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) {
    int e = errno;
    close(master);
    errno = e;
    return -1;
  }
  return master;
}

int cella_pty_peer(int master) { return ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY); }

int cella_set_ctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }

int cella_set_winsize(int fd, uint16_t rows, uint16_t cols) {
  struct winsize ws = {.ws_row = rows, .ws_col = cols};
  return ioctl(fd, TIOCSWINSZ, &ws);
}

int cella_get_winsize(int fd, uint16_t *rows, uint16_t *cols) {
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return -1;
  *rows = ws.ws_row;
  *cols = ws.ws_col;
  return 0;
}

int cella_make_raw(int fd, struct termios *saved) {
  if (tcgetattr(fd, saved) != 0) return -1;
  struct termios raw = *saved;
  cfmakeraw(&raw);
  return tcsetattr(fd, TCSANOW, &raw);
}

int cella_restore_mode(int fd, const struct termios *saved) { return tcsetattr(fd, TCSANOW, saved); }
