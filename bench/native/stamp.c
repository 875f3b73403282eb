/*
 * stamp: the container program of the start-latency case. The first thing main does is read
 * CLOCK_MONOTONIC; it then writes it in nanoseconds to stdout and exits. Built static (no
 * dynamic loader, no libraries to map), so what runs before main is only the static C
 * start-up, tens of microseconds. The harness compares the stamp with the CLOCK_MONOTONIC
 * times benchexec took around the `start` command (no time namespace in that container, so
 * both clocks are the same clock).
 */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  uint64_t ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
  char buf[32];
  int i = sizeof buf;
  buf[--i] = '\n';
  do {
    buf[--i] = (char)('0' + ns % 10);
    ns /= 10;
  } while (ns && i > 0);
  return write(1, buf + i, sizeof buf - (size_t)i) < 0;
}
