// A compiled training step allocates nothing on the heap once it has run:
// the arena, the buffer table and the output tensors are all reused. Every
// form of global operator new is replaced here with one that counts calls
// while counting is switched on.

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <vector>

#include "ad/executor.h"
#include "gtest/gtest.h"
#include "jit/jit_executor.h"
#include "models/mlp.h"
#include "tests/ad/test_util.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<long> allocations{0};

void* CountedAllocate(std::size_t size, std::size_t alignment) {
  if (counting.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (size == 0) size = 1;
  void* memory = alignment <= alignof(std::max_align_t)
                     ? std::malloc(size)
                     : std::aligned_alloc(alignment,
                                          (size + alignment - 1) / alignment *
                                              alignment);
  return memory;
}

}  // namespace

// GCC pairs the replaced operator new with std::free below and warns of a
// mismatch it cannot see through: every form of new here allocates with
// malloc or aligned_alloc, so free is the right release for all of them.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  if (void* memory = CountedAllocate(size, 0)) return memory;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  if (void* memory = CountedAllocate(size, static_cast<size_t>(alignment))) {
    return memory;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return operator new(size, alignment);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocate(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return CountedAllocate(size, 0);
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::align_val_t) noexcept {
  std::free(memory);
}
void operator delete[](void* memory, std::align_val_t) noexcept {
  std::free(memory);
}
void operator delete(void* memory, std::size_t, std::align_val_t) noexcept {
  std::free(memory);
}
void operator delete[](void* memory, std::size_t, std::align_val_t) noexcept {
  std::free(memory);
}

namespace kiln::jit {
namespace {

// Compiles the MNIST step for `threads` threads, runs it once, and counts
// the allocations of ten more runs on dense images or on mostly-zero ones,
// which take the zero-skipping products.
void ExpectNoAllocationsAfterTheFirstRun(int threads, bool sparse) {
  SCOPED_TRACE(::testing::Message()
               << threads << " threads, " << (sparse ? "sparse" : "dense"));
  MlpSpec spec;
  spec.hidden = {{200, Activation::kSigmoid}};
  absl::StatusOr<std::unique_ptr<Mlp>> mlp = Mlp::Build(spec, 100, DType::kF32);
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  const std::vector<Node> updated = (*mlp)->AddSgdStep({.learning_rate = 0.05});
  std::vector<ParameterUpdate> updates;
  for (size_t i = 0; i < updated.size(); ++i) {
    updates.push_back({(*mlp)->parameters()[i], updated[i]});
  }
  JitOptions options;
  options.cache_dir = "";
  options.num_threads = threads;
  JitExecutor jit(options);
  absl::StatusOr<std::unique_ptr<Program>> step = jit.Compile(
      (*mlp)->graph(), {(*mlp)->loss(), (*mlp)->accuracy()}, updates);
  ASSERT_TRUE(step.ok()) << step.status();

  std::mt19937_64 rng(5);
  FeedMap feeds;
  for (const ParameterInfo& info : MlpParameters(spec)) {
    feeds[info.name] =
        testing::RandomTensor(rng, DType::kF32, info.shape, -0.1, 0.1);
  }
  feeds["x"] = testing::RandomTensor(rng, DType::kF32, {100, 784}, 0, 1);
  if (sparse) {
    for (int64_t i = 0; i < feeds["x"].num_elements(); i += 5) {
      for (int64_t j = i; j < std::min<int64_t>(i + 4, 78400); ++j) {
        feeds["x"].Set(j, 0);
      }
    }
  }
  feeds["y"] = testing::RandomOneHot(rng, DType::kF32, {100, 10});
  std::vector<Tensor> outputs;
  ASSERT_TRUE((*step)->Run(feeds, outputs).ok());

  // The counter itself must work, or a zero below would prove nothing.
  counting = true;
  auto probe = std::make_unique<int>(1);
  counting = false;
  ASSERT_EQ(allocations.exchange(0), 1);

  counting = true;
  absl::Status status;
  for (int i = 0; i < 10 && status.ok(); ++i) {
    status = (*step)->Run(feeds, outputs);
  }
  counting = false;
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(allocations.load(), 0) << "heap allocations in 10 runs";
  EXPECT_GT(outputs[0].At(0), 0.0) << "the loss was computed";
}

TEST(AllocationTest, CompiledTrainingStepAllocatesNothingAfterTheFirstRun) {
  ExpectNoAllocationsAfterTheFirstRun(1, /*sparse=*/false);
  ExpectNoAllocationsAfterTheFirstRun(1, /*sparse=*/true);
}

TEST(AllocationTest, ThreadedStepAllocatesNothingAfterTheFirstRun) {
  ExpectNoAllocationsAfterTheFirstRun(2, /*sparse=*/false);
  ExpectNoAllocationsAfterTheFirstRun(2, /*sparse=*/true);
}

}  // namespace
}  // namespace kiln::jit
