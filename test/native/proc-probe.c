/*
 * proc-probe: what a process can learn about, and do to, another process through /proc.
 * Used by the CVE tests (test/integration/cve/sealed-child.test.ts), built static at test
 * time so it runs in a busybox container and on the host alike.
 *
 *   proc-probe pid PID           one observation of PID, a JSON line on stdout
 *   proc-probe watch OUT STOP    observe every process that appears until the file STOP
 *                                exists, one JSON line each appended to OUT
 *
 * An observation: the exe link and its seals, cmdline, environ, maps, the fd links with their
 * open flags (and seals, for memfds), and every way of
 * writing the executable and any memfd the process holds: reopened for writing through
 * /proc, write, pwrite, ftruncate, fallocate, a shared writable mapping, chmod. A memfd is
 * really written to (it is the process's own sealed copy); a host file is only opened
 * for writing, never written.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char out[1 << 20];
static size_t used;

static void put(const char *s) {
  size_t n = strlen(s);
  if (used + n < sizeof out) memcpy(out + used, s, n), used += n;
}

static void put_json(const char *s, size_t n) {
  put("\"");
  char b[8];
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') b[0] = '\\', b[1] = (char)c, b[2] = 0;
    else if (c < 0x20 || c >= 0x7f) snprintf(b, sizeof b, "\\u%04x", c ? c : 10);
    else b[0] = (char)c, b[1] = 0;
    put(b);
  }
  put("\"");
}

static void field(const char *name) {
  if (out[used - 1] != '{') put(",");
  put("\"");
  put(name);
  put("\":");
}

static void result(const char *name, int rc) {
  field(name);
  char b[32];
  if (rc >= 0) snprintf(b, sizeof b, "\"ok\"");
  else snprintf(b, sizeof b, "\"%s\"", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
  put(b);
}

static void seals(int fd) {
  field("seals");
  char b[16];
  snprintf(b, sizeof b, "%d", fcntl(fd, F_GET_SEALS));
  put(b);
}

/* The open flags of a descriptor of another process, from /proc/PID/fdinfo. */
static void fd_flags(int pid, const char *fd) {
  char path[320], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%s", pid, fd);
  int f = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = f < 0 ? -1 : read(f, buf, sizeof buf - 1);
  if (f >= 0) close(f);
  if (n <= 0) return;
  buf[n] = 0;
  char *flags = strstr(buf, "flags:");
  if (!flags) return;
  put(",\"flags\":");
  char b[32];
  snprintf(b, sizeof b, "%lu", strtoul(flags + 6, NULL, 8));
  put(b);
}

static size_t slurp(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return (size_t)-1;
  size_t len = 0;
  ssize_t n;
  while (len < cap && (n = read(fd, buf + len, cap - len)) > 0) len += (size_t)n;
  close(fd);
  return len;
}

/* Every way of writing the file `fd` names. */
static void write_attempts(int fd, int really_write) {
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  if (!really_write) {
    int w = open(self, O_WRONLY | O_APPEND | O_CLOEXEC);
    result("openForWrite", w);
    if (w >= 0) close(w);
    return;
  }
  int w = open(self, O_RDWR | O_CLOEXEC);
  result("openForWrite", w);
  if (w < 0) {
    /* Without the permission to open it so, make it writable first. */
    result("chmod", fchmod(fd, 0777));
    w = open(self, O_RDWR | O_CLOEXEC);
    result("openAfterChmod", w);
  }
  if (w >= 0) {
    result("write", (int)write(w, "X", 1));
    result("pwrite", (int)pwrite(w, "X", 1, 0));
    result("ftruncate", ftruncate(w, 1));
    result("fallocate", fallocate(w, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 16));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, w, 0);
    result("mmapShared", m == MAP_FAILED ? -1 : 0);
    if (m != MAP_FAILED) munmap(m, 4096);
    close(w);
  }
}

static int observe(int pid) {
  char path[128], link[4096], buf[65536];
  used = 0;
  snprintf(buf, sizeof buf, "{\"pid\":%d", pid);
  put(buf);
  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  ssize_t n = readlink(path, link, sizeof link - 1);
  field("exe");
  if (n < 0) put("null");
  else put_json(link, (size_t)n);
  int exe = open(path, O_RDONLY | O_CLOEXEC);
  result("exeOpen", exe);
  if (exe >= 0) {
    int memfd = n > 0 && strncmp(link, "/memfd:", 7) == 0;
    seals(exe);
    field("exeWrites");
    put("{");
    write_attempts(exe, memfd);
    put("}");
  }
  static const char *files[] = {"cmdline", "environ", "maps"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "/proc/%d/%s", pid, files[i]);
    size_t len = slurp(path, buf, sizeof buf);
    field(files[i]);
    if (len == (size_t)-1) put("null");
    else put_json(buf, len);
  }
  field("fds");
  put("[");
  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *d = opendir(path);
  int first = 1;
  while (d) {
    struct dirent *e = readdir(d);
    if (!e) break;
    if (e->d_name[0] == '.') continue;
    char fdpath[320];
    snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%s", pid, e->d_name);
    n = readlink(fdpath, link, sizeof link - 1);
    if (n < 0) continue;
    link[n] = 0;
    if (!first) put(",");
    first = 0;
    put("{\"fd\":");
    put(e->d_name);
    put(",\"link\":");
    put_json(link, (size_t)n);
    fd_flags(pid, e->d_name);
    if (strncmp(link, "/memfd:", 7) == 0) {
      int fd = open(fdpath, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) seals(fd);
      put(",\"writes\":{");
      if (fd >= 0) {
        write_attempts(fd, 1);
        close(fd);
      }
      put("}");
    }
    put("}");
  }
  if (d) closedir(d);
  put("]");
  if (exe >= 0) close(exe);
  put("}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "pid")) {
    observe(atoi(argv[2]));
    fwrite(out, 1, used, stdout);
    return 0;
  }
  if (argc != 4 || strcmp(argv[1], "watch")) {
    fprintf(stderr, "usage: proc-probe pid PID | proc-probe watch OUT STOP\n");
    return 2;
  }
  static char seen[1 << 22];
  int self = getpid();
  FILE *o = fopen(argv[2], "a");
  if (!o) return 1;
  /* What runs already is the container's own; only what appears afterwards is observed. */
  for (int pass = 0;; pass++) {
    if (pass == 1) {
      fputs("{\"ready\":true}\n", o);
      fflush(o);
    }
    if (access(argv[3], F_OK) == 0) break;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      int pid = atoi(e->d_name);
      if (pid <= 0 || pid >= (int)sizeof seen || seen[pid] || pid == self) continue;
      seen[pid] = 1;
      if (pass == 0) continue;
      observe(pid);
      fwrite(out, 1, used, o);
      fflush(o);
    }
    if (d) closedir(d);
  }
  fclose(o);
  return 0;
}
