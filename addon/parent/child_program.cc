// See child_program.h.
#include "child_program.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../child/raw_syscall.h"
#include "../child/weaken.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

namespace tsr {

namespace {

constexpr unsigned kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

std::string errno_text(const std::string &what, int err) { return what + ": " + strerror(err); }

// memfd_create with the kernel's exec flags where it has them (6.3+; vm.memfd_noexec).
int new_memfd(const char *name, bool executable) {
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | (executable ? MFD_EXEC : MFD_NOEXEC_SEAL));
  if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  return fd;
}

// Seal a filled memfd and trade it for a read-only descriptor of the same file, so that no
// writable descriptor of it ever reaches a process a container could take one from
// (pidfd_getfd, /proc/<pid>/fd).
int seal_read_only(int mfd, const char *name, bool executable, std::string &error) {
  // With F_SEAL_EXEC the mode's exec bits cannot change either (kernels since 6.3).
  bool sealed = fchmod(mfd, executable ? 0555 : 0444) == 0 &&
                (fcntl(mfd, F_ADD_SEALS, kSeals | F_SEAL_EXEC) == 0 || (errno == EINVAL && fcntl(mfd, F_ADD_SEALS, kSeals) == 0));
  if (!sealed) {
    error = errno_text(std::string("seal the ") + name + " memfd", errno);
    close(mfd);
    return -1;
  }
  std::string self = "/proc/self/fd/" + std::to_string(mfd);
  int ro = open(self.c_str(), O_RDONLY | O_CLOEXEC);
  int err = errno;
  close(mfd);
  if (ro < 0) error = errno_text(std::string("reopen the ") + name + " memfd read-only", err);
  return ro;
}

struct CloneArgs {
  int program_fd;
  const char *const *argv;
  const char *const *envp;
  const int *keep;
  size_t n_keep;
  int err;  // set by the child when it could not execute the program
};

inline long raw(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  return raw_syscall6(nr, a, b, c, d, e, 0);
}

// Runs on its own stack in the runtime's memory (CLONE_VM) while the runtime waits
// (CLONE_VFORK): raw system calls only, no libc (not even errno), then execve.
int exec_program(void *arg) {
  CloneArgs *a = static_cast<CloneArgs *>(arg);
  long rc = 0;
  if (!kWeakenFds) {
    rc = raw(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  } else {
    // Weakened build (CVE-2024-21626 tests): every descriptor of the runtime goes along.
    for (int fd = 3; fd < 1024; fd++) raw(SYS_fcntl, fd, F_SETFD, 0);
  }
  // A number that is not open is not passed on (the program checks the plan's own fds).
  for (size_t i = 0; rc >= 0 && i < a->n_keep; i++) {
    rc = raw(SYS_fcntl, a->keep[i], F_SETFD, 0);
    if (rc == -EBADF) rc = 0;
  }
  if (rc >= 0) rc = raw(SYS_execveat, a->program_fd, (long)"", (long)a->argv, (long)a->envp, AT_EMPTY_PATH);
  a->err = (int)-rc;
  for (;;) raw(SYS_exit_group, 127);
}

}  // namespace

std::string programs_dir() {
  Dl_info info;
  if (!dladdr(reinterpret_cast<void *>(&programs_dir), &info) || !info.dli_fname) return ".";
  std::string self = info.dli_fname;
  size_t slash = self.rfind('/');
  return slash == std::string::npos ? "." : self.substr(0, slash);
}

int sealed_bytes(const void *data, size_t len, const char *name, std::string &error) {
  int mfd = new_memfd(name, false);
  if (mfd < 0) {
    error = errno_text("memfd_create", errno);
    return -1;
  }
  const char *p = static_cast<const char *>(data);
  while (len) {
    ssize_t n = write(mfd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = errno_text(std::string("write the ") + name + " memfd", n < 0 ? errno : EIO);
      close(mfd);
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return seal_read_only(mfd, name, false, error);
}

int sealed_copy(const std::string &path, const char *name, bool executable, std::string &error) {
  int src = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (src < 0) {
    error = errno_text("open " + path, errno);
    return -1;
  }
  // Test-only weakened build (CVE-2019-5736 regression tests): execute the host file itself.
  if (kWeakenExe) return src;
  struct stat st;
  if (fstat(src, &st) < 0) {
    error = errno_text("stat " + path, errno);
    close(src);
    return -1;
  }
  int mfd = new_memfd(name, executable);
  if (mfd < 0) {
    error = errno_text("memfd_create", errno);
    close(src);
    return -1;
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, (size_t)(st.st_size - off));
    if (n <= 0) {
      error = errno_text("copy " + path + " into a memfd", n < 0 ? errno : EIO);
      close(src);
      close(mfd);
      return -1;
    }
  }
  close(src);
  return seal_read_only(mfd, name, executable, error);
}

bool start_program(int program_fd, const std::vector<std::string> &argv, const std::vector<int> &keep,
                   unsigned long clone_flags, Started &out, std::string &error) {
  std::vector<const char *> args;
  for (const std::string &a : argv) args.push_back(a.c_str());
  args.push_back(nullptr);
  // Weakened build: the runtime's environment goes along (what the tests must notice).
  static const char *const kNoEnv[] = {nullptr};
  CloneArgs a = {program_fd, args.data(), kWeakenExe ? environ : kNoEnv, keep.data(), keep.size(), 0};

  constexpr size_t kStack = 64 * 1024;
  void *stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    error = errno_text("mmap a stack for the child", errno);
    return false;
  }
  // No signal handler of the runtime may run on the child's stack between the clone and
  // the execve; the program resets dispositions and the mask first thing.
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  int pidfd = -1;
  int pid = clone(exec_program, static_cast<char *>(stack) + kStack,
                  CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD | (int)clone_flags, &a, &pidfd);
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  munmap(stack, kStack);
  if (pid < 0) {
    error = errno_text("clone", clone_err);
    return false;
  }
  if (a.err) {
    // The program never ran: reap what is left of the child.
    siginfo_t si;
    while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR) {
    }
    close(pidfd);
    error = errno_text("execute tsrunc-child", a.err);
    return false;
  }
  out.pid = pid;
  out.pidfd = pidfd;
  return true;
}

}  // namespace tsr
