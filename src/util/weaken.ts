// Deliberately weakened builds, for the regression tests only (test/integration/cve/
// weak-build.ts builds one with TSRUNC_BUILD_WEAKEN=config). A normal build
// (scripts/build.mjs) defines the constant below as false, so the bundler drops every
// branch it guards; run from source (tsx) it is not defined at all: false as well.
//
//   config   the checks that keep config.json and the command line away from host values:
//            sysctls outside the container's namespaces, `unified` cgroup core files and
//            `unified` on cgroup v1, the id 4294967295, NUL bytes
declare const __TSRUNC_WEAKEN_CONFIG__: boolean | undefined;

export const kWeakenConfig: boolean = typeof __TSRUNC_WEAKEN_CONFIG__ !== 'undefined' && __TSRUNC_WEAKEN_CONFIG__ === true;
