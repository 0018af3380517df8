#ifndef CSHIMS_H
#define CSHIMS_H
#include <spawn.h>
#include <sys/types.h>
// libc entry points Glibc's Swift module does not expose (they need _GNU_SOURCE).
int cshims_pipe2_cloexec(int fds[2]);
// A descriptor that polls readable when `pid` exits (Linux 5.3+); -1 with errno otherwise.
int cshims_pidfd_open(pid_t pid);
// Closes every descriptor >= `from` in the child (glibc 2.34+); a no-op returning -1 before that.
int cshims_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);
// Moves the calling thread into the network namespace open at `fd`: setns(fd, CLONE_NEWNET).
int cshims_setns_net(int fd);
// A NETLINK_ROUTE socket (close-on-exec) bound to a kernel-chosen port and connected to the
// kernel, so it only receives the kernel's replies; receives time out after `timeout_seconds`.
// Extended acks (the kernel's error text) are requested where supported. Stores the port in
// `*port_id`. -1 with errno on failure.
int cshims_netlink_route_socket(unsigned int *port_id, int timeout_seconds);
// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts later) and returns a
// close-on-exec, non-blocking signalfd that polls readable when either arrives; -1 with errno.
int cshims_termination_signalfd(void);
#endif
