#include "models/numpy_random.h"

namespace kiln {
namespace {

// The constants of Matsumoto and Nishimura's MT19937.
constexpr int kShift = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr uint32_t kUpperBit = 0x80000000u;
constexpr uint32_t kLowerBits = 0x7fffffffu;

}  // namespace

NumpyRandom::NumpyRandom(uint32_t seed) {
  // init_genrand: a linear-congruential fill of the state from the seed.
  state_[0] = seed;
  for (int i = 1; i < kStateSize; ++i) {
    const uint32_t previous = state_[i - 1];
    state_[i] = 1812433253u * (previous ^ (previous >> 30)) + i;
  }
}

void NumpyRandom::Twist() {
  for (int i = 0; i < kStateSize; ++i) {
    const uint32_t y =
        (state_[i] & kUpperBit) | (state_[(i + 1) % kStateSize] & kLowerBits);
    state_[i] = state_[(i + kShift) % kStateSize] ^ (y >> 1) ^
                ((y & 1u) ? kMatrixA : 0u);
  }
  next_ = 0;
}

uint32_t NumpyRandom::NextUint32() {
  if (next_ >= kStateSize) Twist();
  uint32_t y = state_[next_++];
  // Tempering.
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

double NumpyRandom::NextDouble() {
  const uint32_t a = NextUint32() >> 5;  // 27 bits
  const uint32_t b = NextUint32() >> 6;  // 26 bits
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

}  // namespace kiln
