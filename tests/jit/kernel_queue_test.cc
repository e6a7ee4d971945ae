// KernelQueue hands every chunk of a split kernel to exactly one part,
// starts no kernel before the kernels it waits for are complete, lets part
// 0 claim from the front and the other parts from the back, and lets one
// part compute everything when the others never come. Built with
// --config=tsan, these tests also check that its synchronisation is
// race-free.

#include "jit/kernel_queue.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "jit/loop_ir.h"

namespace kiln::jit {
namespace {

constexpr int kMaxChunks = 16;

// What the fake kernels record: how often each chunk of each kernel ran,
// in which order a part claimed them, and whether a kernel ever started
// before one it waits for was complete.
struct Record {
  std::vector<KernelQueue::KernelInfo> kernels;
  std::atomic<int> runs[4][kMaxChunks] = {};
  std::atomic<bool> complete[4] = {};
  std::atomic<bool> started_early{false};
  std::vector<int> claimed_by_part[2];
};

// Stands in for a compiled kernel: claims chunks while any are left, as
// generated code does, or computes the whole kernel as chunk 0.
void FakeKernel(void* context, int kernel, const RunPart& part) {
  auto* record = static_cast<Record*>(context);
  for (int j : record->kernels[kernel].waits_for) {
    if (!record->complete[j].load()) record->started_early.store(true);
  }
  const bool claims = part.count > 1 && record->kernels[kernel].split;
  if (!claims) {
    for (int c = 0; c < record->kernels[kernel].chunks; ++c) {
      record->runs[kernel][c].fetch_add(1);
    }
  } else {
    for (int64_t c = part.claim_chunk(part.claim_state, kernel); c >= 0;
         c = part.claim_chunk(part.claim_state, kernel)) {
      record->runs[kernel][c].fetch_add(1);
      record->claimed_by_part[part.index].push_back(static_cast<int>(c));
    }
  }
}

// Marks kernels complete once the queue would let a later kernel start:
// wraps FakeKernel so that a kernel counts as complete when every chunk
// has run once.
void TrackingKernel(void* context, int kernel, const RunPart& part) {
  FakeKernel(context, kernel, part);
  auto* record = static_cast<Record*>(context);
  int done = 0;
  for (int c = 0; c < record->kernels[kernel].chunks; ++c) {
    done += record->runs[kernel][c].load();
  }
  if (done == record->kernels[kernel].chunks) {
    record->complete[kernel].store(true);
  }
}

std::vector<KernelQueue::KernelInfo> FourKernels() {
  return {{.split = true, .chunks = 10, .waits_for = {}},
          {.split = false, .chunks = 1, .waits_for = {0}},
          {.split = false, .chunks = 1, .waits_for = {}},
          {.split = true, .chunks = 7, .waits_for = {1, 2}}};
}

void ExpectEveryChunkOnce(const Record& record) {
  for (size_t k = 0; k < record.kernels.size(); ++k) {
    for (int c = 0; c < record.kernels[k].chunks; ++c) {
      EXPECT_EQ(record.runs[k][c].load(), 1)
          << "kernel " << k << " chunk " << c;
    }
  }
}

TEST(KernelQueueTest, TwoPartsComputeEveryChunkOnceAfterItsWaits) {
  for (int run = 0; run < 200; ++run) {
    Record record;
    record.kernels = FourKernels();
    KernelQueue queue(record.kernels);
    queue.Reset();
    std::thread other([&] { queue.RunAsPart(1, 2, &TrackingKernel, &record); });
    queue.RunAsPart(0, 2, &TrackingKernel, &record);
    other.join();
    ExpectEveryChunkOnce(record);
    EXPECT_FALSE(record.started_early.load()) << "run " << run;
    if (HasFailure()) return;
  }
}

TEST(KernelQueueTest, PartZeroClaimsFromTheFrontAndOthersFromTheBack) {
  Record record;
  record.kernels = {{.split = true, .chunks = 5, .waits_for = {}}};
  KernelQueue queue(record.kernels);
  queue.Reset();
  // Alone, part 1 takes every chunk from the last down, and part 0 every
  // chunk from the first up.
  Record* context = &record;
  queue.RunAsPart(1, 2, &FakeKernel, context);
  EXPECT_EQ(record.claimed_by_part[1], (std::vector<int>{4, 3, 2, 1, 0}));
  queue.Reset();
  queue.RunAsPart(0, 2, &FakeKernel, context);
  EXPECT_EQ(record.claimed_by_part[0], (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(KernelQueueTest, OnePartOfTwoComputesEverythingWhenTheOtherNeverComes) {
  Record record;
  record.kernels = FourKernels();
  KernelQueue queue(record.kernels);
  queue.Reset();
  queue.RunAsPart(0, 2, &TrackingKernel, &record);
  ExpectEveryChunkOnce(record);
  EXPECT_FALSE(record.started_early.load());
}

TEST(KernelQueueTest, ResetLetsTheNextRunComputeEverythingAgain) {
  Record record;
  record.kernels = FourKernels();
  KernelQueue queue(record.kernels);
  for (int run = 0; run < 3; ++run) {
    queue.Reset();
    queue.RunAsPart(0, 2, &FakeKernel, &record);
  }
  for (size_t k = 0; k < record.kernels.size(); ++k) {
    for (int c = 0; c < record.kernels[k].chunks; ++c) {
      EXPECT_EQ(record.runs[k][c].load(), 3) << "kernel " << k;
    }
  }
}

TEST(KernelQueueTest, ASinglePartRunsEveryKernelWholeInOrder) {
  Record record;
  record.kernels = FourKernels();
  KernelQueue queue(record.kernels);
  queue.Reset();
  queue.RunAsPart(0, 1, &TrackingKernel, &record);
  ExpectEveryChunkOnce(record);
  EXPECT_FALSE(record.started_early.load());
  EXPECT_TRUE(record.claimed_by_part[0].empty())
      << "one part claims nothing: each kernel computes its whole range";
}

}  // namespace
}  // namespace kiln::jit
