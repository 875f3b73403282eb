// Starting the child program (tsrunc-child) without ever running a copy of the runtime:
// the programs are copied into sealed memfds, and a vfork-style clone (CLONE_VM |
// CLONE_VFORK, on a small stack of its own) only marks descriptors and executes the
// program. The runtime's memory is never copied and no code of the runtime ever runs in
// a process a container can see.
#pragma once

#include <string>
#include <vector>

namespace tsr {

// Where tsrunc.node, tsrunc-child and tsrunc-init are (the addon's own directory).
std::string programs_dir();

// A read-only descriptor of a sealed memfd (no write, grow, shrink, or further seals) holding
// a copy of the file at `path`, named `name` (/proc/<pid>/exe shows /memfd:<name>); -1 and
// `error` on failure.
int sealed_copy(const std::string &path, const char *name, bool executable, std::string &error);
// The same for bytes already in memory.
int sealed_bytes(const void *data, size_t len, const char *name, std::string &error);

struct Started {
  int pid = -1;
  int pidfd = -1;
};

// Execute the program in `program_fd` in a new process with `argv`, an empty environment
// and only `keep` of our descriptors (at their numbers); `clone_flags` adds namespaces to
// create. On success the program is running (the clone returns after its execve).
bool start_program(int program_fd, const std::vector<std::string> &argv, const std::vector<int> &keep,
                   unsigned long clone_flags, Started &out, std::string &error);

}  // namespace tsr
