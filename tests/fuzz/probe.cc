// Configure-time check that clang++ can link a libFuzzer + ASan/UBSan binary
// (clang without the compiler-rt fuzzer runtime cannot).
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }
