#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "CShims.h"

// Atomic create-with-CLOEXEC: with parallel spawns, pipe()+fcntl() would leak a descriptor into
// another thread's child between the two calls.
int cshims_pipe2_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
