#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include "CShims.h"

// Atomic create-with-CLOEXEC: with parallel spawns, pipe()+fcntl() would leak a descriptor into
// another thread's child between the two calls.
int cshims_pipe2_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

// Through syscall(2): glibc's wrapper is newer than some hosts' headers.
int cshims_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    return -1;
#endif
}

int cshims_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#else
    (void)actions; (void)from;
    return -1;
#endif
}

int cshims_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

int cshims_netlink_route_socket(unsigned int *port_id, int timeout_seconds) {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    socklen_t length = sizeof local;
    struct timeval timeout = { .tv_sec = timeout_seconds };
    int on = 1;
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0
        || getsockname(fd, (struct sockaddr *)&local, &length) != 0
        || connect(fd, (struct sockaddr *)&kernel, sizeof kernel) != 0
        || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
#ifdef NETLINK_EXT_ACK
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
#endif
#ifdef NETLINK_CAP_ACK
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
#endif
    (void)on;
    *port_id = local.nl_pid;
    return fd;
}

int cshims_termination_signalfd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}
