{
  # The native half of ts-runc, built by node-gyp during `npm ci` (after
  # scripts/gen-protocol.mjs has generated addon/generated/ from addon/protocol/plan.json):
  #   tsrunc.node   the N-API addon: what runs in the runtime process
  #   tsrunc-child  the freestanding static program every container process, exec'd process
  #                 and container-namespace hook starts as (addon/child/)
  #   tsrunc-init   the freestanding static stub every container program is executed through
  "targets": [
    {
      "target_name": "tsrunc",
      "sources": [
        "addon/parent/binding.cc",
        "addon/parent/child_program.cc",
        "addon/parent/spawn.cc",
        "addon/parent/sync.cc",
        "addon/parent/proc.cc",
        "addon/parent/seccomp.cc",
        "addon/parent/idmap.cc",
        "addon/parent/bpf.cc",
        "addon/parent/eventfd.cc",
        "addon/parent/inroot.cc",
        "addon/child/inroot.cc",
        "addon/child/sys_linux.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-O2"],
      "cflags_cc": ["-std=gnu++17", "-fno-exceptions", "-fno-rtti"],
      # libstdc++ and libgcc linked in, their symbols kept private: Bun (unlike Node) has no
      # libstdc++ loaded, and loading the shared one cost every command that loads the addon
      # ~1 ms and ~0.7 MiB (docs/performance.md). The addon uses little of it (-fno-exceptions,
      # -fno-rtti: strings, vectors, a thread).
      "ldflags": ["-static-libstdc++", "-static-libgcc", "-Wl,--exclude-libs,ALL"],
      "libraries": ["-lseccomp", "-ldl"],
      "dependencies": ["tsrunc-init", "tsrunc-child"]
    },
    {
      "target_name": "tsrunc-child",
      "type": "executable",
      "sources": [
        "addon/child/start.cc",
        "addon/child/sys_linux.cc",
        "addon/child/main.cc",
        "addon/child/plan.cc",
        "addon/child/report.cc",
        "addon/child/fds.cc",
        "addon/child/inroot.cc",
        "addon/child/stage1.cc",
        "addon/child/stage2.cc",
        "addon/child/rootfs.cc",
        "addon/child/console.cc",
        "addon/child/process.cc",
        "addon/child/network.cc"
      ],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
                 "-Os", "-static", "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables",
                 "-fno-pie", "-ffunction-sections", "-fdata-sections", "-fno-tree-loop-distribute-patterns"],
      "cflags_cc": ["-std=gnu++17", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics"],
      "cflags_cc!": ["-std=gnu++17"],
      "ldflags": ["-static", "-nostdlib", "-no-pie", "-Wl,--gc-sections", "-Wl,--build-id=none", "-Wl,-z,noexecstack", "-s"],
      "cflags!": ["-fPIC", "-pthread", "-O3", "-O2"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "libraries!": ["-lpthread"]
    },
    {
      "target_name": "tsrunc-init",
      "type": "executable",
      "sources": ["addon/stub/tsrunc-init.c"],
      "cflags": ["-Os", "-static", "-nostdlib", "-fno-stack-protector", "-fno-builtin", "-fno-asynchronous-unwind-tables", "-fno-pie"],
      "ldflags": ["-static", "-nostdlib", "-no-pie", "-Wl,--build-id=none", "-Wl,-z,noexecstack", "-s"],
      "cflags!": ["-fPIC", "-pthread"],
      "ldflags!": ["-pthread", "-rdynamic"],
      "libraries!": ["-lpthread"]
    }
  ]
}
