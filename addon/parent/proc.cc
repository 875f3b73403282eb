// Process, descriptor and socket primitives for the TypeScript side: pidfds, waiting,
// fd passing on stream sockets, locks, fifos, pipes (socket pairs and packets: sync.cc).
// Thin wrappers; policy stays in TypeScript.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../common/fdpass.h"
#include "napi_util.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace tsr {

namespace {

Napi::Object wait_result(Napi::Env env, const siginfo_t &si) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, si.si_pid));
  bool signaled = si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
  out.Set("exitCode", signaled ? env.Null() : Napi::Number::New(env, si.si_status));
  out.Set("signal", signaled ? Napi::Number::New(env, si.si_status) : env.Null());
  return out;
}

// A detached thread with every signal blocked (signals are the JavaScript thread's to
// handle). pthread_create, not std::thread: this build has no exceptions, and std::thread
// reports failure with one. Returns 0 or an errno.
int start_detached_thread(void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the new thread inherits the mask
  pthread_t tid;
  int err = pthread_create(&tid, nullptr, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!err) pthread_detach(tid);
  return err;
}

// waitPidfdAsync's waiter: a thread of its own blocks in waitid on the pidfd (it reaps the
// process), then hands the status to the JavaScript thread through a thread-safe function,
// which settles the promise. Plain N-API, so it works under Node and Bun alike (a uv_poll
// on the event loop did not: Bun has no libuv loop). The thread-safe function keeps the
// event loop alive until the status arrives, as a pending wait should. The thread blocks
// every signal, so signals reach the runtime's own handlers and never interrupt the wait.
struct PidfdWait {
  int pidfd;
  napi_deferred deferred;
  napi_threadsafe_function settle;
  siginfo_t si;
  int err;
};

void settle_wait(napi_env raw_env, napi_value, void *, void *data) {
  auto *w = static_cast<PidfdWait *>(data);
  if (raw_env) {  // null when the environment is going away: nobody is left to tell
    Napi::Env env(raw_env);
    if (w->err) {
      Napi::Error e = Napi::Error::New(env, std::string("waitid: ") + strerror(w->err));
      e.Set("errno", Napi::Number::New(env, w->err));
      napi_reject_deferred(env, w->deferred, e.Value());
    } else {
      napi_resolve_deferred(env, w->deferred, wait_result(env, w->si));
    }
  }
  delete w;
}

void wait_on_thread(PidfdWait *w) {
  memset(&w->si, 0, sizeof w->si);
  w->err = 0;
  while (waitid((idtype_t)P_PIDFD, (id_t)w->pidfd, &w->si, WEXITED) < 0) {
    if (errno != EINTR) {
      w->err = errno;
      break;
    }
  }
  napi_threadsafe_function settle = w->settle;
  napi_call_threadsafe_function(settle, w, napi_tsfn_blocking);
  napi_release_threadsafe_function(settle, napi_tsfn_release);
}

}  // namespace

// pidfdOpen(pid) -> fd
Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  int fd = (int)syscall(SYS_pidfd_open, arg_int(info, 0), 0);
  if (fd < 0) return throw_errno(info.Env(), errno, "pidfd_open");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(info.Env(), fd);
}

// pidfdSendSignal(pidfd, sig) -> undefined (throws ESRCH when the process is gone)
Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  if (syscall(SYS_pidfd_send_signal, arg_int(info, 0), arg_int(info, 1, 0), nullptr, 0) < 0)
    return throw_errno(info.Env(), errno, "pidfd_send_signal");
  return info.Env().Undefined();
}

// waitPidfd(pidfd, noHang) -> {pid, exitCode, signal} | null (still running, noHang)
Napi::Value WaitPidfd(const Napi::CallbackInfo &info) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int flags = WEXITED | (info.Length() > 1 && info[1].ToBoolean() ? WNOHANG : 0);
  for (;;) {
    if (waitid((idtype_t)P_PIDFD, (id_t)arg_int(info, 0), &si, flags) == 0) break;
    if (errno != EINTR) return throw_errno(info.Env(), errno, "waitid");
  }
  if (si.si_pid == 0) return info.Env().Null();
  return wait_result(info.Env(), si);
}

// waitPidfdAsync(pidfd) -> Promise<{pid, exitCode, signal}> (waits on a thread of its own)
Napi::Value WaitPidfdAsync(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto *w = new PidfdWait();
  w->pidfd = arg_int(info, 0);
  napi_value promise, name;
  napi_status st = napi_create_promise(env, &w->deferred, &promise);
  if (st == napi_ok) st = napi_create_string_utf8(env, "waitPidfdAsync", NAPI_AUTO_LENGTH, &name);
  if (st == napi_ok) st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, nullptr, settle_wait, &w->settle);
  if (st != napi_ok) {
    delete w;  // the promise, if made, is never settled and unreachable once we throw
    return throw_error(env, "waitPidfdAsync: cannot create the waiter");
  }
  int err = start_detached_thread([](void *p) -> void * { wait_on_thread(static_cast<PidfdWait *>(p)); return nullptr; }, w);
  if (err) {
    napi_release_threadsafe_function(w->settle, napi_tsfn_abort);
    delete w;
    return throw_errno(env, err, "pthread_create");
  }
  return Napi::Value(env, promise);
}

// poll([[fd, events], ...], timeoutMs) -> revents[] (all zero on timeout)
Napi::Value Poll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) return throw_type(env, "poll(fds, timeout)");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<struct pollfd> fds(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Array pair = arr.Get(i).As<Napi::Array>();
    fds[i].fd = pair.Get((uint32_t)0).As<Napi::Number>().Int32Value();
    fds[i].events = (short)pair.Get((uint32_t)1).As<Napi::Number>().Int32Value();
  }
  int timeout = arg_int(info, 1, -1);
  for (;;) {
    if (poll(fds.data(), fds.size(), timeout) >= 0) break;
    if (errno != EINTR) return throw_errno(env, errno, "poll");
  }
  Napi::Array out = Napi::Array::New(env, fds.size());
  for (uint32_t i = 0; i < fds.size(); i++) out.Set(i, Napi::Number::New(env, fds[i].revents));
  return out;
}

// sendFd(socketFd, fd, payload) : one message, payload bytes, fd in SCM_RIGHTS
Napi::Value SendFd(const Napi::CallbackInfo &info) {
  std::string payload = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  if (payload.empty()) payload.assign(1, '\0');  // a message needs at least one byte
  int err = send_with_fd(arg_int(info, 0), payload.data(), payload.size(), arg_int(info, 1));
  if (err) return throw_errno(info.Env(), err, "sendmsg");
  return info.Env().Undefined();
}

// recvFd(socketFd) -> {fd, payload} ; fd -1 when the peer sent none / closed
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  char buf[4096];
  int fd = -1;
  long n = recv_with_fd(arg_int(info, 0), buf, sizeof buf, &fd);
  if (n < 0) return throw_errno(env, (int)-n, "recvmsg");
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, fd));
  out.Set("payload", Napi::String::New(env, buf, (size_t)n));
  return out;
}

// connectUnix(path) -> fd (SOCK_STREAM client, close-on-exec)
Napi::Value ConnectUnix(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return throw_errno(info.Env(), ENAMETOOLONG, "connect " + path);
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(info.Env(), errno, "socket");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(info.Env(), err, "connect " + path);
  }
  return Napi::Number::New(info.Env(), fd);
}

// pipe() -> [readFd, writeFd] (close-on-exec)
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return throw_errno(info.Env(), errno, "pipe2");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set((uint32_t)0, Napi::Number::New(info.Env(), p[0]));
  out.Set((uint32_t)1, Napi::Number::New(info.Env(), p[1]));
  return out;
}

// memfd(name) -> fd (close-on-exec)
Napi::Value Memfd(const Napi::CallbackInfo &info) {
  std::string name = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "tsrunc";
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) return throw_errno(info.Env(), errno, "memfd_create");
  return Napi::Number::New(info.Env(), fd);
}

// flock(fd, op) -> true when acquired; false on EWOULDBLOCK with LOCK_NB
Napi::Value Flock(const Napi::CallbackInfo &info) {
  for (;;) {
    if (flock(arg_int(info, 0), arg_int(info, 1, LOCK_EX)) == 0) return Napi::Boolean::New(info.Env(), true);
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
    if (errno != EINTR) return throw_errno(info.Env(), errno, "flock");
  }
}

// mkfifo(path, mode)
Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (mkfifo(path.c_str(), (mode_t)arg_int(info, 1, 0600)) < 0) return throw_errno(info.Env(), errno, "mkfifo " + path);
  return info.Env().Undefined();
}

// strerror(errno) -> "no such file or directory" (lower-case, as Go and runc print it)
Napi::Value StrError(const Napi::CallbackInfo &info) {
  std::string s = strerror(arg_int(info, 0, 0));
  if (!s.empty()) s[0] = (char)tolower((unsigned char)s[0]);
  return Napi::String::New(info.Env(), s);
}

// primeCgroupMigration(procsFile): on a thread of its own, write "0" to the cgroup.procs of
// a cgroup this process already is in: a migration to where it is, which changes nothing but
// makes the kernel's cgroup_threadgroup_rwsem switch to its writer mode. That switch waits
// for an RCU grace period (~10 ms here) the first time after a quiet spell; done now, it
// overlaps with the runtime's own work instead of stalling the container's real migration.
Napi::Value PrimeCgroupMigration(const Napi::CallbackInfo &info) {
  auto *file = new std::string(info[0].As<Napi::String>().Utf8Value());
  int err = start_detached_thread(
      [](void *p) -> void * {
        auto *path = static_cast<std::string *>(p);
        int fd = open(path->c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
          ssize_t ignored = write(fd, "0", 1);
          (void)ignored;
          close(fd);
        }
        delete path;
        return nullptr;
      },
      file);
  if (err) delete file;  // only an optimisation: the migration itself happens later anyway
  return info.Env().Undefined();
}

// closeFd(fd) — close without Node's fs bookkeeping (for fds the addon made)
Napi::Value CloseFd(const Napi::CallbackInfo &info) {
  close(arg_int(info, 0));
  return info.Env().Undefined();
}

// getWinsize(fd) -> {rows, cols} | null ; setWinsize(fd, rows, cols)
Napi::Value GetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws;
  if (ioctl(arg_int(info, 0), TIOCGWINSZ, &ws) < 0) return info.Env().Null();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("rows", Napi::Number::New(info.Env(), ws.ws_row));
  out.Set("cols", Napi::Number::New(info.Env(), ws.ws_col));
  return out;
}

Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  struct winsize ws = {};
  ws.ws_row = (unsigned short)arg_int(info, 1, 0);
  ws.ws_col = (unsigned short)arg_int(info, 2, 0);
  if (ioctl(arg_int(info, 0), TIOCSWINSZ, &ws) < 0) return throw_errno(info.Env(), errno, "ioctl(TIOCSWINSZ)");
  return info.Env().Undefined();
}

// clearOnlcr(fd) — on a pty master this sets the pair's line discipline (the container's side)
Napi::Value ClearOnlcr(const Napi::CallbackInfo &info) {
  int fd = arg_int(info, 0);
  struct termios t;
  if (tcgetattr(fd, &t) < 0) return throw_errno(info.Env(), errno, "tcgetattr");
  t.c_oflag &= ~ONLCR;
  if (tcsetattr(fd, TCSANOW, &t) < 0) return throw_errno(info.Env(), errno, "tcsetattr");
  return info.Env().Undefined();
}

}  // namespace tsr
