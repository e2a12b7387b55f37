// peak-rss FILE PROGRAM [ARGUMENT...]
//
// Runs PROGRAM and writes its peak resident set, in bytes, then on a second line the CPU seconds
// it used (user + system, all its threads), to FILE; exits as PROGRAM did (128 + the signal if
// one ended it).
//
// haven-bench cannot read a child's peak itself: on Linux a process's ru_maxrss starts at the
// peak of the memory map it replaced at exec, and a child spawned by haven-bench (posix_spawn's
// vfork, or fork) replaces haven-bench's own map, so `wait4` reports haven-bench's peak whenever
// that is the larger (220 MiB for a `haven sync` whose own peak was 53 MiB, BENCHMARKS.md). This
// launcher is small: the child it forks starts from its own few hundred KiB.
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: peak-rss FILE PROGRAM [ARGUMENT...]\n");
        return 64;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("peak-rss: fork");
        return 71;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("peak-rss: exec");
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno == EINTR) continue;
        perror("peak-rss: wait4");
        return 71;
    }
#ifdef __APPLE__
    long long bytes = (long long)usage.ru_maxrss;  // bytes on Darwin
#else
    long long bytes = (long long)usage.ru_maxrss * 1024;  // KiB on Linux
#endif
    FILE *file = fopen(argv[1], "w");
    double cpu = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec
        + usage.ru_stime.tv_usec / 1e6;
    if (file == NULL || fprintf(file, "%lld\n%.6f\n", bytes, cpu) < 0 || fclose(file) != 0) {
        perror("peak-rss: writing the peak");
        return 71;
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
