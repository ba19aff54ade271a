#include "core/crc32.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace phony {
namespace {

TEST(Crc32Test, KnownValues) {
  EXPECT_EQ(Crc32(0, "", 0), 0u);
  EXPECT_EQ(Crc32(0, "123456789", 9), 0xCBF43926u);
  const std::string zeros(4096, '\0');
  EXPECT_EQ(Crc32(0, zeros.data(), zeros.size()), Crc32Portable(0, zeros.data(), zeros.size()));
}

// Every length from 0 to 1 KiB at every alignment within 16 bytes, then
// large buffers, and continuing from a previous CRC, all as zlib computes
// them.
TEST(Crc32Test, MatchesZlibForEveryLengthAndAlignment) {
  std::mt19937_64 rng(7);
  std::string buf(70000, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t align = 0; align < 16; ++align) {
    for (size_t n = 0; n <= 1024; ++n) {
      ASSERT_EQ(Crc32(0, buf.data() + align, n), Crc32Portable(0, buf.data() + align, n))
          << "length " << n << " at offset " << align;
    }
  }
  for (size_t n : {4095u, 4096u, 65535u, 65536u, 69999u}) {
    EXPECT_EQ(Crc32(0, buf.data() + 1, n), Crc32Portable(0, buf.data() + 1, n)) << n;
  }
  const uint32_t head = Crc32(0, buf.data(), 1000);
  EXPECT_EQ(Crc32(head, buf.data() + 1000, 5000), Crc32Portable(0, buf.data(), 6000));
  EXPECT_EQ(Crc32(0xdeadbeef, buf.data(), 300), Crc32Portable(0xdeadbeef, buf.data(), 300));
}

}  // namespace
}  // namespace phony
