#ifndef CSHIMS_H
#define CSHIMS_H
#include <sys/types.h>
// libc entry points Glibc's Swift module does not expose (they need _GNU_SOURCE).
int cshims_pipe2_cloexec(int fds[2]);
// A descriptor that polls readable when `pid` exits (Linux 5.3+); -1 with errno otherwise.
int cshims_pidfd_open(pid_t pid);
#endif
