// A seccomp profile in the shape of Docker's default, written for the benchmark (not taken
// from Docker): deny by default with EPERM, one large allow-list, and the argument-filtered
// rules that make such a profile costly to compile and to load — personality by exact
// value, clone by a masked comparison (no namespace flags), socket minus one family, and
// clone3 answered with ENOSYS so a libc falls back to clone. The allow-list is the x86_64
// system call table less what a default container profile keeps out (mount, namespaces,
// modules, keyrings, kexec, bpf, perf, clock setting, swap, reboot, ...), plus the 32-bit
// names a multi-arch profile lists for x86 and x32.

const ALLOW_64 = `
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction rt_sigprocmask
rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select sched_yield mremap msync mincore madvise
shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm setitimer getpid sendfile connect accept sendto
recvfrom sendmsg recvmsg shutdown bind listen getsockname getpeername socketpair setsockopt getsockopt fork
vfork execve exit wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock fsync
fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink symlink
readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo times ptrace getuid
getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid setreuid setregid getgroups setgroups
setresuid getresuid setresgid getresgid getpgid setfsuid setfsgid getsid capget capset rt_sigpending
rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend sigaltstack utime mknod statfs fstatfs getpriority setpriority
sched_setparam sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
sched_get_priority_min sched_rr_get_interval mlock munlock mlockall munlockall modify_ldt prctl arch_prctl
setrlimit chroot sync gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr
llistxattr flistxattr removexattr lremovexattr fremovexattr tkill time futex sched_setaffinity
sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit io_cancel get_thread_area
epoll_create remap_file_pages getdents64 set_tid_address restart_syscall
semtimedop fadvise64 timer_create timer_settime timer_gettime timer_getoverrun timer_delete clock_gettime
clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes get_mempolicy mq_open mq_unlink
mq_timedsend mq_timedreceive mq_notify mq_getsetattr waitid ioprio_set ioprio_get inotify_init
inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat mknodat fchownat futimesat newfstatat
unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll set_robust_list
get_robust_list splice tee sync_file_range vmsplice utimensat epoll_pwait signalfd timerfd_create eventfd
fallocate timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1
preadv pwritev rt_tgsigqueueinfo recvmmsg fanotify_mark prlimit64 syncfs sendmmsg getcpu process_vm_readv
process_vm_writev sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create execveat membarrier
mlock2 copy_file_range preadv2 pwritev2 statx io_pgetevents rseq pidfd_send_signal io_uring_setup
io_uring_enter io_uring_register pidfd_open close_range openat2 pidfd_getfd faccessat2 epoll_pwait2
futex_waitv fchmodat2
`;

/** Names that exist only on 32-bit ABIs (x86), listed as a multi-arch profile does. */
const ALLOW_32 = `
_llseek _newselect chown32 fchown32 lchown32 fcntl64 fstat64 fstatat64 lstat64 stat64 statfs64 fstatfs64
ftruncate64 truncate64 getegid32 geteuid32 getgid32 getuid32 getgroups32 setgroups32 setgid32 setuid32
setregid32 setreuid32 setresgid32 setresuid32 getresgid32 getresuid32 setfsgid32 setfsuid32 mmap2
sendfile64 ugetrlimit waitpid socketcall ipc sigreturn sigprocmask sigaction sigsuspend sigpending
clock_gettime64 clock_nanosleep_time64 clock_getres_time64 futex_time64 ppoll_time64 pselect6_time64
recvmmsg_time64 semtimedop_time64 timer_gettime64 timer_settime64 timerfd_gettime64 timerfd_settime64
utimensat_time64 rt_sigtimedwait_time64 mq_timedreceive_time64 mq_timedsend_time64 io_pgetevents_time64
sched_rr_get_interval_time64 arm_fadvise64_64 fadvise64_64 signal
`;

const words = (text) => text.split(/\s+/).filter(Boolean);

/** personality(2) values a default profile lets through: PER_LINUX, PER_LINUX32, UNAME26 variants, query. */
const PERSONALITIES = [0, 8, 0x20000, 0x20008, 0xffffffff];
/** CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWCGROUP */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const AF_VSOCK = 40;
const ENOSYS = 38;

/** The linux.seccomp object for config.json. */
export function dockerShapedProfile() {
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: process.arch === 'arm64' ? ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] : ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: [...words(ALLOW_64), ...words(ALLOW_32)].sort(), action: 'SCMP_ACT_ALLOW' },
      ...PERSONALITIES.map((value) => ({
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
      })),
      {
        names: ['clone'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    ],
  };
}
