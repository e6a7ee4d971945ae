// NumpyRandom: the random stream of NumPy's legacy np.random.
//
// The chapter's experiments draw their initial weights with
//   np.random.seed(S); np.random.random(shape)
// and Kiln reproduces those weights bit for bit. That stream is MT19937
// seeded by init_genrand(S); each double takes two 32-bit outputs a and b
// and is (a>>5 · 2^26 + b>>6) / 2^53, which has 53 random bits.
//
//   NumpyRandom random(3);
//   double u = random.NextDouble();  // 0.5507979025745755, as NumPy gives

#ifndef KILN_MODELS_NUMPY_RANDOM_H_
#define KILN_MODELS_NUMPY_RANDOM_H_

#include <array>
#include <cstdint>

namespace kiln {

class NumpyRandom {
 public:
  explicit NumpyRandom(uint32_t seed);

  // The next 32-bit output of MT19937.
  uint32_t NextUint32();

  // A double uniform in [0, 1), as np.random.random() draws it.
  double NextDouble();

 private:
  static constexpr int kStateSize = 624;

  // Regenerates all 624 words of state at once, as the reference does.
  void Twist();

  std::array<uint32_t, kStateSize> state_;
  int next_ = kStateSize;
};

}  // namespace kiln

#endif  // KILN_MODELS_NUMPY_RANDOM_H_
