// Deliberately weakened builds, for the CVE regression tests only.
//
// A normal build (node-gyp through binding.gyp) defines none of these macros, so every
// constant below is false and the compiler drops the weakened branches. The CVE tests
// (test/integration/cve/, test/integration/cve/weak-build.ts) build a separate copy of the addon
// with CPPFLAGS=-DTSRUNC_WEAKEN_<CLASS> into a temporary directory and point the runtime
// at it with TSRUNC_NATIVE_DIR, to show that each test fails once its wall is removed.
//
//   TSRUNC_WEAKEN_EXE      CVE-2019-5736: setup processes stay dumpable, and the child
//                          program and the stub are executed from their host files
//                          instead of sealed memfds, the program with the runtime's
//                          environment
//   TSRUNC_WEAKEN_FDS      CVE-2024-21626: the runtime's descriptors reach the container
//                          (none is closed, and the start of the child program clears
//                          close-on-exec on all of them) and the working directory is
//                          neither resolved nor checked inside the root
//   TSRUNC_WEAKEN_PROCFS   CVE-2019-16884, CVE-2019-19921, CVE-2025-31133: mount targets
//                          may go through symlinks onto procfs, /dev/null is not verified
//                          before masking
//   TSRUNC_WEAKEN_CONSOLE  CVE-2025-52565: /dev/console is bound wherever a symlink there
//                          points, and the pty is not checked to be the container's devpts
#pragma once

// A class macro is either undefined or defined by -D (as 1). TSR_WEAKENED(M) reads it as a
// constant expression, true only when M is defined as 1: the pasted name TSR_IF_1_ exists
// only then, and its expansion "~, true" pushes true into the picked argument's place (the
// kernel's IS_ENABLED idiom). A class is thus named once, here, and nowhere else.
#define TSR_IF_1_ ~, true
#define TSR_SECOND_(ignored, value, ...) value
#define TSR_PICK_(maybe_pair) TSR_SECOND_(maybe_pair, false, ~)
#define TSR_PASTE_(value) TSR_PICK_(TSR_IF_##value##_)
#define TSR_WEAKENED(macro) TSR_PASTE_(macro)

namespace tsr {

constexpr bool kWeakenExe = TSR_WEAKENED(TSRUNC_WEAKEN_EXE);
constexpr bool kWeakenFds = TSR_WEAKENED(TSRUNC_WEAKEN_FDS);
constexpr bool kWeakenProcfs = TSR_WEAKENED(TSRUNC_WEAKEN_PROCFS);
constexpr bool kWeakenConsole = TSR_WEAKENED(TSRUNC_WEAKEN_CONSOLE);

}  // namespace tsr
