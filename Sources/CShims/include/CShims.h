#ifndef CSHIMS_H
#define CSHIMS_H
// libc entry points Glibc's Swift module does not expose (they need _GNU_SOURCE).
int cshims_pipe2_cloexec(int fds[2]);
#endif
