// Mapping and checking the plan the runtime wrote (src/native/generated/protocol.ts).
//
// Nothing of the plan is used before all of it is checked: the header (magic, version, the
// layout hash of this build, the size), then every record in the order the serializer
// wrote it (generated protocol_check.h) against the buffer and the string table.
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "report.h"
#include "sys.h"

namespace tsr {

uint8_t *g_plan_base = nullptr;
const char *g_plan_strings = nullptr;

namespace {
constexpr uint32_t kAlign = proto::kAllocAlign;
uint64_t align_up(uint64_t n) { return (n + kAlign - 1) & ~(uint64_t)(kAlign - 1); }
}  // namespace

bool PlanChecker::take(uint32_t off, uint64_t len, proto::Field f) {
  cursor_ = align_up(cursor_);
  if (off != cursor_ || cursor_ + len > strings_off_) return fail(f);
  cursor_ += len;
  return true;
}

bool PlanChecker::zero(const void *p, size_t len, proto::Field f) {
  const uint8_t *b = static_cast<const uint8_t *>(p);
  for (size_t i = 0; i < len; i++)
    if (b[i]) return fail(f);
  return true;
}

bool PlanChecker::str(const proto::Str &s, bool nullable, proto::Field f) {
  if (s.off == proto::kNullRef) return nullable && s.len == 0 ? true : fail(f);
  uint64_t start = (uint64_t)strings_off_ + s.off;
  if (s.len > proto::kStringBytesMax || start + s.len >= size_) return fail(f);
  const uint8_t *p = base_ + start;
  for (uint32_t i = 0; i < s.len; i++)
    if (p[i] == 0) return fail(f);
  return p[s.len] == 0 ? true : fail(f);
}

bool PlanChecker::strv(proto::Strv &v, uint32_t headroom, proto::Field f) {
  uint64_t lead = (uint64_t)headroom * 8;
  if (v.off < lead) return fail(f);
  if (!take((uint32_t)(v.off - lead), (lead + ((uint64_t)v.count + 1) * 8), f)) return false;
  uint64_t *slots = reinterpret_cast<uint64_t *>(base_ + v.off);
  if (!zero(slots - headroom, lead, f) || slots[v.count] != 0) return fail(f);
  for (uint32_t i = 0; i < v.count; i++) {
    proto::Str s = {(uint32_t)slots[i], (uint32_t)(slots[i] >> 32)};
    if (!str(s, false, f)) return false;
    // The slot becomes the string's address: execve(2) takes exactly this array.
    slots[i] = (uint64_t)(uintptr_t)(g_plan_strings + s.off);
  }
  return true;
}

bool PlanChecker::blob(const proto::Blob &b, uint32_t multiple_of, uint32_t max_len, proto::Field f) {
  if (b.len > max_len || b.len % multiple_of) return fail(f);
  return take(b.off, b.len, f);
}

bool PlanChecker::finished() const { return align_up(cursor_) == strings_off_; }

static_assert(sizeof(void *) == 8, "string-list slots hold pointers");

const Plan *load_plan(int fd) {
  struct stat st;
  check(sys::fstatat(fd, "", &st, AT_EMPTY_PATH), Step::PLAN_READ);
  if (st.st_size < (long)(sizeof(proto::Header) + sizeof(Plan)) || st.st_size > proto::kPlanBytesMax)
    die(Step::PLAN_SIZE, EPROTO);
  uint32_t size = (uint32_t)st.st_size;
  // A private, writable copy: only the string-list slots are written (strv above).
  long addr = sys::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (addr < 0 && addr > -4096) die(Step::PLAN_READ, -addr);
  check(sys::close(fd), Step::PLAN_READ);
  uint8_t *base = reinterpret_cast<uint8_t *>(addr);

  const proto::Header *h = reinterpret_cast<const proto::Header *>(base);
  if (h->magic != proto::kMagic) die(Step::PLAN_MAGIC, EPROTO);
  if (h->version != proto::kVersion) die(Step::PLAN_VERSION, EPROTO);
  if (h->layout_hash != proto::kLayoutHash) die(Step::PLAN_LAYOUT, EPROTO);
  if (h->size != size || h->strings_off > size || h->strings_off % kAlign || (size > h->strings_off && base[size - 1] != 0))
    die(Step::PLAN_SIZE, EPROTO);
  g_plan_base = base;
  g_plan_strings = reinterpret_cast<const char *>(base + h->strings_off);

  PlanChecker c(base, size, h->strings_off, sizeof(proto::Header));
  Plan *plan = reinterpret_cast<Plan *>(base + sizeof(proto::Header));
  if (!c.take(sizeof(proto::Header), sizeof(Plan), proto::Field::Plan_layout) || !proto::check(c, *plan) || !c.finished())
    die_at(Step::PLAN_FIELD, EPROTO, (uint32_t)c.field());
  return plan;
}

}  // namespace tsr
