// What the process has allocated, as glibc's malloc counts it (mallinfo2(3)),
// for tests that check how much an object holds or gives back.
//
// Under AddressSanitizer (scripts/sanitize.sh) malloc is ASan's own and
// glibc's counters never move: such a test takes the figure only when
// kGlibcHeap is true, and runs the rest of its checks either way.
#pragma once

#include <malloc.h>

#include <cstddef>

namespace wif::testing {

inline size_t heap_in_use() { return mallinfo2().uordblks; }

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kGlibcHeap = false;
#else
inline constexpr bool kGlibcHeap = true;
#endif

}  // namespace wif::testing
