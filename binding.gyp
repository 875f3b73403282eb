{
  # The native half of ts-runc: the N-API addon (parent-side bindings plus the
  # async-signal-safe child code) and tsrunc-init, the freestanding static stub every
  # container program is executed through. Built by node-gyp during `npm ci`.
  "targets": [
    {
      "target_name": "tsrunc",
      "sources": [
        "addon/parent/binding.cc",
        "addon/parent/plan_convert.cc",
        "addon/parent/spawn.cc",
        "addon/parent/proc.cc",
        "addon/parent/seccomp.cc",
        "addon/parent/idmap.cc",
        "addon/parent/bpf.cc",
        "addon/parent/eventfd.cc",
        "addon/parent/inroot.cc",
        "addon/child/report.cc",
        "addon/child/fds.cc",
        "addon/child/inroot.cc",
        "addon/child/stage1.cc",
        "addon/child/stage2.cc",
        "addon/child/rootfs.cc",
        "addon/child/console.cc",
        "addon/child/process.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-O2"],
      "cflags_cc": ["-std=gnu++17", "-fno-exceptions", "-fno-rtti"],
      "libraries": ["-lseccomp"],
      "dependencies": ["tsrunc-init"]
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
