/*
 * benchexec: the benchmark's stopwatch. It runs runtime commands and times them itself, so
 * the harness's own overhead (Node's spawn, pipes, the event loop) never lands in a sample.
 *
 *   benchexec [-p] [-m NSFILE] [-t SECONDS] -d DIR CMDFILE
 *       Run the commands in CMDFILE (one per line, arguments separated by \x1f), one after
 *       another, or all at once with -p. Command i gets stdin /dev/null and stdout/stderr
 *       DIR/i.out and DIR/i.err (files, never pipes: a container started by `create`
 *       inherits them and would hold a pipe open). With -m, each command first joins the
 *       mount namespace NSFILE (setns in the forked child, before execvp). With -t, a
 *       command still running after SECONDS (a batch, with -p) is killed with SIGKILL.
 *       Prints one line per command, in CMDFILE order:
 *         <i> <exit status, or 128+signal> <start ns> <end ns> <maxrss KiB> <user us> <sys us>
 *         <timed out 0|1> <wchan of a timed-out command when it was killed, else ->
 *       then `wall <first start ns> <last end ns>`. Times are CLOCK_MONOTONIC, taken right
 *       before fork and right after wait4 returns. maxrss is wait4's ru_maxrss: the largest
 *       resident set reached by the command or any descendant it waited for (a maximum over
 *       the process tree, not a sum) — the number GNU time's %M reports.
 *
 *   benchexec --hold-ns EMPTYFILE
 *       Dies with its parent; makes a mount namespace (slave of the host's, so it keeps seeing
 *       new host mounts) in which EMPTYFILE is bind-mounted over
 *       /sys/fs/cgroup/unified/cgroup.controllers, prints "ready", and waits. crun 1.8.1
 *       refuses to work on hybrid cgroups while that file lists any controller (here it
 *       lists hugetlb, which no v1 hierarchy holds); the harness runs crun's commands in
 *       this namespace with -m /proc/<pid>/ns/mnt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 4096
#define MAX_ARGS 256

struct cmd {
  char *argv[MAX_ARGS + 1];
  pid_t pid;
  int status;
  int done;
  int timed_out;
  char wchan[64];
  uint64_t start, end;
  struct rusage ru;
};

static struct cmd cmds[MAX_CMDS];
static volatile sig_atomic_t alarmed;

static void on_alarm(int sig) {
  (void)sig;
  alarmed = 1;
}

/* No SA_RESTART: wait4 returns EINTR when the alarm fires. */
static void arm(unsigned seconds) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  alarmed = 0;
  alarm(seconds);
}

/* The alarm fired: kill what is still running (SIGKILL) and mark it. */
static void kill_running(int from, int to) {
  for (int i = from; i < to; i++) {
    if (!cmds[i].done && cmds[i].pid > 0) {
      cmds[i].timed_out = 1;
      /* Where it was stuck, for the report: the kernel function it sleeps in. */
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/wchan", (int)cmds[i].pid);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ssize_t n = read(fd, cmds[i].wchan, sizeof cmds[i].wchan - 1);
        cmds[i].wchan[n > 0 ? n : 0] = '\0';
        close(fd);
      }
      kill(cmds[i].pid, SIGKILL);
    }
  }
  alarmed = 0;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "benchexec: %s: %s\n", what, strerror(errno));
  exit(125);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  if (!buf) die("malloc");
  for (;;) {
    if (len + 4096 > cap) {
      cap *= 2;
      buf = realloc(buf, cap);
      if (!buf) die("realloc");
    }
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    if (n == 0) break;
    len += n;
  }
  fclose(f);
  buf[len] = '\0';
  return buf;
}

/* Split CMDFILE into commands (lines) and arguments (\x1f-separated), in place. */
static int parse_cmds(char *text) {
  int n = 0;
  char *line = text;
  while (*line) {
    char *eol = strchr(line, '\n');
    if (eol) *eol = '\0';
    if (*line) {
      if (n >= MAX_CMDS) {
        fprintf(stderr, "benchexec: more than %d commands\n", MAX_CMDS);
        exit(125);
      }
      int a = 0;
      char *arg = line;
      for (;;) {
        char *sep = strchr(arg, '\x1f');
        if (sep) *sep = '\0';
        if (a >= MAX_ARGS) {
          fprintf(stderr, "benchexec: more than %d arguments\n", MAX_ARGS);
          exit(125);
        }
        cmds[n].argv[a++] = arg;
        if (!sep) break;
        arg = sep + 1;
      }
      cmds[n].argv[a] = NULL;
      n++;
    }
    if (!eol) break;
    line = eol + 1;
  }
  return n;
}

static void child(int i, const char *dir, int nsfd) {
  char path[4096];
  int in = open("/dev/null", O_RDONLY);
  snprintf(path, sizeof path, "%s/%d.out", dir, i);
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  snprintf(path, sizeof path, "%s/%d.err", dir, i);
  int err = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || err < 0) _exit(125);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  if (in > 2) close(in);
  if (out > 2) close(out);
  if (err > 2) close(err);
  if (nsfd >= 0 && setns(nsfd, CLONE_NEWNS) != 0) {
    dprintf(2, "benchexec: setns: %s\n", strerror(errno));
    _exit(125);
  }
  if (nsfd >= 0) close(nsfd);
  execvp(cmds[i].argv[0], cmds[i].argv);
  dprintf(2, "benchexec: exec %s: %s\n", cmds[i].argv[0], strerror(errno));
  _exit(127);
}

static pid_t launch(int i, const char *dir, int nsfd) {
  cmds[i].start = now_ns();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) child(i, dir, nsfd);
  cmds[i].pid = pid;
  return pid;
}

static void record(int i, int status, const struct rusage *ru) {
  cmds[i].end = now_ns();
  cmds[i].done = 1;
  cmds[i].ru = *ru;
  cmds[i].status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int hold_ns(const char *empty) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) die("prctl");
  if (getppid() == 1) return 1;
  if (unshare(CLONE_NEWNS) != 0) die("unshare");
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) != 0) die("mount --make-rslave /");
  if (mount(empty, "/sys/fs/cgroup/unified/cgroup.controllers", NULL, MS_BIND, NULL) != 0)
    die("bind-mount over /sys/fs/cgroup/unified/cgroup.controllers");
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}

int main(int argc, char **argv) {
  int parallel = 0;
  unsigned timeout = 0;
  const char *ns = NULL, *dir = NULL, *file = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--hold-ns") && i + 1 < argc) return hold_ns(argv[i + 1]);
    if (!strcmp(argv[i], "-p")) parallel = 1;
    else if (!strcmp(argv[i], "-m") && i + 1 < argc) ns = argv[++i];
    else if (!strcmp(argv[i], "-d") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "-t") && i + 1 < argc) timeout = (unsigned)atoi(argv[++i]);
    else if (!file) file = argv[i];
    else {
      fprintf(stderr, "usage: benchexec [-p] [-m NSFILE] [-t SECONDS] -d DIR CMDFILE | --hold-ns EMPTYFILE\n");
      return 125;
    }
  }
  if (!dir || !file) {
    fprintf(stderr, "usage: benchexec [-p] [-m NSFILE] -d DIR CMDFILE | --hold-ns EMPTYFILE\n");
    return 125;
  }
  int nsfd = -1;
  if (ns) {
    nsfd = open(ns, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) die(ns);
  }
  int n = parse_cmds(read_file(file));

  int status;
  struct rusage ru;
  if (!parallel) {
    for (int i = 0; i < n; i++) {
      pid_t pid = launch(i, dir, nsfd);
      if (timeout) arm(timeout);
      while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) die("wait4");
        if (alarmed) kill_running(i, i + 1);
      }
      alarm(0);
      record(i, status, &ru);
    }
  } else {
    for (int i = 0; i < n; i++) launch(i, dir, nsfd);
    if (timeout) arm(timeout);
    int left = n;
    while (left > 0) {
      pid_t pid = wait4(-1, &status, 0, &ru);
      if (pid < 0) {
        if (errno != EINTR) die("wait4");
        if (alarmed) kill_running(0, n);
        continue;
      }
      for (int i = 0; i < n; i++) {
        if (cmds[i].pid == pid) {
          record(i, status, &ru);
          left--;
          break;
        }
      }
    }
  }

  uint64_t first = n ? cmds[0].start : 0, last = 0;
  for (int i = 0; i < n; i++) {
    struct cmd *c = &cmds[i];
    if (c->start < first) first = c->start;
    if (c->end > last) last = c->end;
    printf("%d %d %llu %llu %ld %ld %ld %d %s\n", i, c->status, (unsigned long long)c->start, (unsigned long long)c->end,
           c->ru.ru_maxrss, (long)(c->ru.ru_utime.tv_sec * 1000000 + c->ru.ru_utime.tv_usec),
           (long)(c->ru.ru_stime.tv_sec * 1000000 + c->ru.ru_stime.tv_usec), c->timed_out,
           c->wchan[0] && !strchr(c->wchan, ' ') ? c->wchan : "-");
  }
  printf("wall %llu %llu\n", (unsigned long long)first, (unsigned long long)last);
  return 0;
}
