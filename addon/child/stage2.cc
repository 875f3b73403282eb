// Stage 2: the container process itself (PID 1 of a new PID namespace for `create`, or
// the process `exec` adds), in runc's order of setup.
#include <linux/keyctl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "sys.h"
#include "weaken.h"

namespace tsr {

namespace {

// Keep only what the container needs; in particular none of Node's descriptors.
void close_runtime_fds(const Plan *p) {
  const ProcessSpec &proc = p->process;
  if (kWeakenFds) return;
  int keep[64] = {p->sync_fd, proc.stub_fd, proc.exec_fifo_fd, proc.console_socket_fd,
                  proc.stdio_fds[0], proc.stdio_fds[1], proc.stdio_fds[2]};
  int n = 7;
  for (uint32_t i = 0; i < p->n_mounts; i++) {
    if (p->mounts[i].mount_fd < 0) continue;
    if (n == 64) die("close fds", "too many prepared mounts", E2BIG);
    keep[n++] = p->mounts[i].mount_fd;
  }
  close_fds_except(3 + (int)proc.preserve_fds, keep, n);
}

void install_stdio(const ProcessSpec *proc) {
  for (int i = 0; i < 3; i++) {
    int fd = proc->stdio_fds[i];
    if (fd < 0) continue;
    if (fd != i && dup2(fd, i) < 0) die("stdio", "dup2", errno);
    int err = make_inheritable(i);
    if (err) die("stdio", "clear close-on-exec", err);
  }
}

void inherit_preserved_fds(const ProcessSpec *proc) {
  for (uint32_t i = 0; i < proc->preserve_fds; i++) {
    int err = make_inheritable(3 + (int)i);
    if (err && err != EBADF) die("preserve fds", "clear close-on-exec", err);
  }
}

void set_hostname(const Plan *p) {
  if (p->hostname && sethostname(p->hostname, str_len(p->hostname)) < 0)
    die("sethostname", p->hostname, errno);
  if (p->domainname && setdomainname(p->domainname, str_len(p->domainname)) < 0)
    die("setdomainname", p->domainname, errno);
}

}  // namespace

void run_stage2(const Plan *p) {
  // Our parent is now the runtime itself (CLONE_PARENT): die with it during setup.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // Not dumpable: processes in the container cannot open our /proc/<pid>/exe, fds or
  // memory while we still run the runtime's code (CVE-2019-5736 class).
  if (!kWeakenExe) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  close_runtime_fds(p);
  umask(0);

  if (p->is_init || p->process.terminal) setsid();
  if (p->new_session_keyring) {
    // A fresh session keyring, so the container cannot read the host's keys.
    if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p->keyring_name) < 0 && errno != ENOSYS)
      die("keyctl", "join session keyring", errno);
  }

  if (p->is_init && p->setup_mounts) {
    setup_rootfs(p);
  } else if (p->is_init && p->rootfs) {
    // No mount namespace of its own: the container only gets its root directory.
    if (chdir(p->rootfs) < 0 || chroot(".") < 0 || chdir("/") < 0) die("chroot", p->rootfs, errno);
  }

  if (p->process.terminal) {
    setup_console(&p->process, p->is_init);
  } else {
    install_stdio(&p->process);
  }
  inherit_preserved_fds(&p->process);
  if (p->is_init) {
    if (p->setup_mounts) {
      if (!p->process.terminal) reopen_dev_null(p);
      finalize_rootfs(p);
    }
    set_hostname(p);
    apply_sysctls(p);
    if (p->setup_mounts) {
      apply_readonly_paths(p);
      apply_masked_paths(p);
      apply_root_propagation(p);
    }
  }
  apply_process_attributes(&p->process);
  // The setup is done: from here on, dying with the runtime is no longer wanted (create
  // returns and leaves the container waiting for start).
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  finalize_and_exec(p);
}

}  // namespace tsr
