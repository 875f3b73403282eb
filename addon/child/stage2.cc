// Stage 2: the container process itself (PID 1 of a new PID namespace for `create`, or
// the process `exec` adds), in runc's order of setup.
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>

#include "child.h"
#include "weaken.h"

namespace tsr {

namespace {

// Keep only what the container process needs: nothing of stage 1's (the namespace fds and
// the exec's pidfd, say).
void close_setup_fds(const Plan *p) {
  if (kWeakenFds) return;
  const Process &proc = p->process;
  close_fds_except(3 + (int)proc.preserve_fds, [p, &proc](auto &visit) {
    visit(g_launch.sync_fd);
    visit(g_launch.stub_fd);
    visit(proc.exec_fifo_fd);
    visit(proc.console_socket_fd);
    for (int i = 0; i < 3; i++) visit(proc.stdio_fds[i]);
    for (uint32_t i = 0; i < p->mounts.count; i++) visit(plan_at(p->mounts, i).mount_fd);
    for (uint32_t i = 0; i < p->devices.count; i++) visit(plan_at(p->devices, i).mount_fd);
  });
}

void install_stdio(const Process &proc) {
  for (int i = 0; i < 3; i++) {
    int fd = proc.stdio_fds[i];
    if (fd < 0) continue;
    set_index((uint32_t)i);
    if (fd != i) check(sys::dup3(fd, i, 0), Step::STDIO);
    check(make_inheritable(i), Step::STDIO);
  }
  clear_index();
}

void inherit_preserved_fds(const Process &proc) {
  for (uint32_t i = 0; i < proc.preserve_fds; i++) {
    long rc = make_inheritable(3 + (int)i);
    // A number the caller did not have open is simply not passed on.
    if (rc < 0 && rc != -EBADF) die_at(Step::PRESERVE_FDS, rc, 3 + i);
  }
}

void set_hostname(const Plan *p) {
  const char *host = str(p->hostname), *domain = str(p->domainname);
  if (host) check(sys::sethostname(host, str_len(host)), Step::SETHOSTNAME);
  if (domain) check(sys::setdomainname(domain, str_len(domain)), Step::SETDOMAINNAME);
}

}  // namespace

void run_stage2(const Plan *p) {
  // Our parent is now the runtime itself (CLONE_PARENT): die with it during setup.
  check(sys::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), Step::PDEATHSIG);
  // Not dumpable: processes in the container cannot open our /proc/<pid>/exe, fds or
  // memory while we set up (CVE-2019-5736 class; stage 1 is the same, this is a new process).
  if (!kWeakenExe) check(sys::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), Step::DUMPABLE);
  close_setup_fds(p);
  sys::umask(0);

  const Process &proc = p->process;
  // A session (and so a process group) of its own, for an exec'd process too, as runc's
  // nsexec gives it: otherwise it stays in the runtime's process group, which its PID
  // namespace cannot name (getpgrp() would return 0).
  check(sys::setsid(), Step::SETSID);
  const char *keyring = str(p->keyring_name);
  if (p->new_session_keyring) {
    // A fresh session keyring, so the container cannot read the host's keys.
    long rc = sys::keyctl_join_session_keyring(keyring);
    if (rc < 0 && rc != -ENOSYS) die(Step::KEYRING, rc);
  }
  if (p->loopback_up) bring_loopback_up();

  const char *rootfs = str(p->rootfs);
  if (p->is_init && p->setup_mounts) {
    setup_rootfs(p);
  } else if (p->is_init && rootfs) {
    // No mount namespace of its own: the container only gets its root directory.
    check(sys::chdir(rootfs), Step::CHROOT);
    check(sys::chroot("."), Step::CHROOT);
    check(sys::chdir("/"), Step::CHROOT);
  }

  if (proc.terminal) {
    setup_console(proc, p->is_init);
  } else {
    install_stdio(proc);
  }
  inherit_preserved_fds(proc);
  if (p->is_init) {
    if (p->setup_mounts) {
      reopen_dev_null(p);
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
  apply_process_attributes(proc);
  // The setup is done: from here on, dying with the runtime is no longer wanted (create
  // returns and leaves the container waiting for start).
  check(sys::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0), Step::PDEATHSIG);
  finalize_and_exec(p);
}

}  // namespace tsr
