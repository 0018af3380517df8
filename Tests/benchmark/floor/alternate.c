// Times two sides of a comparison in alternating rounds (A B, B A, A B, ...), so that the
// machine's drift moves both sides of a round together. A side is a list of steps, each one
// process: posix_spawn, stdin from a file, stdout and stderr to /dev/null, waited for, and
// required to exit 0. No shell and no interpreter stands between the clock and the process.
//
//   alternate ROUNDS WARMUP SIDE_A SIDE_B
//
// A side file has one step per line: STDIN_PATH <tab> ENV (space-separated KEY=VALUE, the whole
// environment) <tab> ARGV (space-separated). Prints "round side nanoseconds" for every timed
// round; floor.py turns them into medians and paired differences.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

typedef struct { char *stdin_path; char **env; char **argv; } step;
typedef struct { step *steps; int count; } side;

static char **split(char *text) {
    int cap = 8, n = 0;
    char **out = malloc(sizeof(char *) * cap);
    for (char *save = NULL, *word = strtok_r(text, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
        if (n + 1 >= cap) out = realloc(out, sizeof(char *) * (cap *= 2));
        out[n++] = word;
    }
    out[n] = NULL;
    return out;
}

static side load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    side s = { malloc(sizeof(step) * 64), 0 };
    char *line = NULL;
    size_t size = 0;
    while (getline(&line, &size, f) > 0) {
        line[strcspn(line, "\n")] = 0;
        if (!*line) continue;
        char *copy = strdup(line), *save = NULL;
        char *in = strtok_r(copy, "\t", &save), *env = strtok_r(NULL, "\t", &save), *argv = strtok_r(NULL, "\t", &save);
        if (!in || !env || !argv || s.count == 64) { fprintf(stderr, "%s: bad step: %s\n", path, line); exit(2); }
        s.steps[s.count++] = (step){ in, split(env), split(argv) };
    }
    fclose(f);
    return s;
}

static long long now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long run(const side *s) {
    long long started = now();
    for (int i = 0; i < s->count; i++) {
        const step *st = &s->steps[i];
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, st->stdin_path, O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int error = posix_spawn(&pid, st->argv[0], &actions, NULL, st->argv, st->env);
        posix_spawn_file_actions_destroy(&actions);
        if (error) { fprintf(stderr, "spawn %s: %s\n", st->argv[0], strerror(error)); exit(1); }
        int status;
        while (waitpid(pid, &status, 0) < 0) if (errno != EINTR) { perror("waitpid"); exit(1); }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "step %d of a side (%s, stdin %s) failed with status %d\n", i, st->argv[0], st->stdin_path, status);
            exit(1);
        }
    }
    return now() - started;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: alternate ROUNDS WARMUP SIDE_A SIDE_B\n"); return 2; }
    int rounds = atoi(argv[1]), warmup = atoi(argv[2]);
    side a = load(argv[3]), b = load(argv[4]);
    for (int i = 0; i < warmup; i++) { run(&a); run(&b); }
    for (int i = 0; i < rounds; i++) {
        if (i % 2 == 0) { long long ta = run(&a), tb = run(&b); printf("%d A %lld\n%d B %lld\n", i, ta, i, tb); }
        else { long long tb = run(&b), ta = run(&a); printf("%d A %lld\n%d B %lld\n", i, ta, i, tb); }
    }
    return 0;
}
