#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
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
