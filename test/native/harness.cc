// A host test binary made of the child program's own sources (addon/child/, except the
// freestanding entry and the real system-call layer) and the recording layer
// (sys_record.cc). It runs the child on a plan file and prints every system call it makes.
//
//   harness PLAN_FILE [--path PATH=KIND]... [--fail CALL[:ARG0][#N]=ERRNO]...
//           [--closed FD]... [--clone-parent] [--runtime-gone]
//
// Used by test/unit/child-order.test.ts (built by test/helpers/child-harness.ts).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "sys_record.h"

namespace tsr {
extern "C" int child_main(int argc, char **argv);
}

int main(int argc, char **argv) {
  using record::g_script;
  if (argc < 2) {
    fprintf(stderr, "usage: harness PLAN_FILE [options]\n");
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--path") {
      size_t eq = v.find('=');
      record::Entry e{v.substr(0, eq), v.substr(eq + 1), ""};
      if (e.kind.rfind("file:", 0) == 0) e.content = e.kind.substr(5), e.kind = "file";
      g_script.paths.push_back(e);
      i++;
    } else if (a == "--fail") {
      size_t eq = v.find('='), hash = v.find('#');
      std::string call = v.substr(0, hash < eq ? hash : eq);
      int nth = hash < eq ? atoi(v.substr(hash + 1, eq - hash - 1).c_str()) : 0;
      g_script.faults.push_back({call, nth, atoi(v.substr(eq + 1).c_str())});
      i++;
    } else if (a == "--closed") {
      g_script.closed.insert(atoi(v.c_str()));
      i++;
    } else if (a == "--clone-parent") {
      g_script.clone_parent = true;
    } else if (a == "--runtime-gone") {
      g_script.runtime_gone = true;
    } else {
      fprintf(stderr, "harness: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  int plan = open(argv[1], O_RDONLY | O_CLOEXEC);
  if (plan < 0) {
    perror(argv[1]);
    return 2;
  }
  g_script.plan_fd = plan;
  g_script.sync_fd = 90;
  std::string plan_arg = std::to_string(plan);
  char *child_argv[] = {(char *)"tsrunc-child", (char *)"plan", plan_arg.data(), (char *)"90", (char *)"91", nullptr};
  return tsr::child_main(5, child_argv);
}
