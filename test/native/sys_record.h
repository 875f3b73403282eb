// The script of the recording system-call layer (sys_record.cc), set by harness.cc.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace record {

struct Entry {
  std::string path;
  std::string kind;     // dir | file | exe | fifo | chr:MAJ:MIN | link:TARGET | missing
  std::string content;  // file: what read() returns
};

struct Fault {
  std::string call;
  int nth;  // 0: every call
  int err;
};

struct Script {
  std::vector<Entry> paths;
  std::vector<Fault> faults;
  std::set<int> closed;  // descriptors F_GETFD and fstat say are not open
  std::map<int, int> consumed;
  std::string cwd = "/";
  int plan_fd = -1;
  int sync_fd = -1;
  bool clone_parent = false;  // clone3 returns a pid: follow stage 1 after its fork
  bool runtime_gone = false;
};

extern Script g_script;

}  // namespace record
