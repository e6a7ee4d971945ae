#include "jit/lower.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ops/base/check.h"
#include "ops/base/status_macros.h"
#include "ops/product_sums.h"
#include "ops/shape.h"

namespace kiln::jit {
namespace {

bool IsBufferLeaf(OpKind op) {
  return op == OpKind::kInput || op == OpKind::kParameter ||
         op == OpKind::kConstant;
}

// Register blocking of the matrix product: rows of accumulators, and the
// most vectors of accumulators per row. With AVX-512's 32 registers, 4 × 4
// accumulators, the right operand's 4 vectors and one broadcast fit; with
// the 16 of AVX2 and SSE, 4 × 2 of them do.
constexpr int kMatMulBlockRows = 4;

int MatMulBlockVectors(int vector_bytes) { return vector_bytes >= 64 ? 4 : 2; }

// The zero-skipping product visits, per register block, only the positions
// p at which some of the block's rows of the left operand is nonzero. Its
// blocks are up to kMaxSkipBlockRows rows by as many vectors as the
// accumulator budget allows, so that each right-operand row loaded serves
// every row of the block; the columns are split into at most
// kMaxSkipColumnBlocks blocks, each of which scans the left operand again.
constexpr int kMaxSkipBlockRows = 2;
constexpr int kMaxSkipColumnBlocks = 4;

// Vector accumulators a register block may use, leaving registers for the
// right operand's vector, the broadcasts and the products.
int AccumulatorBudget(int vector_bytes) { return vector_bytes >= 64 ? 26 : 10; }

// When the left operand is the transpose of an input X, a row of it is a
// column of X, which no vector load reads. The zero-skipping product then
// takes its rows in groups, whose partial sums stay in a local scratch
// array of at most this many bytes, well inside a 32 KiB L1 cache; each row
// of X is scanned once per group, contiguously.
constexpr int64_t kMaxScratchBytes = 16384;
constexpr int kMaxRowGroup = 16;

// The sums that decide whether to skip zeros keep this many independent
// accumulators, so that they run at the processor's throughput rather than
// at the latency of one chain of additions.
constexpr int kFoldChains = 4;

// The zero-skipping product runs when at most this fraction of the left
// operand is nonzero; denser operands go to the plain product, whose
// blocks share loads more.
constexpr double kSkipMaxDensity = 0.5;

// The density is estimated from at most this many of the left operand's
// vectors, evenly spaced. Either product gives the same bits, so the
// estimate only has to pick the faster one, and counting every element
// would cost a tenth of the sparse product itself.
constexpr int64_t kDensitySampleVectors = 512;

// Split kernels divide into chunks of about this much work, in loop
// iterations (a product's multiply-adds, other kernels' elements): a
// microsecond or two, so that claiming a chunk costs little beside it and
// the parts of a run finish a kernel within about a chunk of each other.
// Kernels with less than two chunks' work run whole in one part.
constexpr int64_t kChunkWork = 32768;

// A zero-skipping product whose left operand is an input in rows, with at
// least this many vectors per output row, divides its columns, not its
// rows, into kColumnChunks chunks in a run of several parts (see
// LowerColumnSplitMatMul). One whose left operand is a transposed input
// keeps to rows: its groups of rows start on cache lines, where a column
// boundary falls inside a line in every other row whenever a row is not a
// whole number of lines (200 f32 are 12.5), and two cores writing the
// halves of one line take it from each other on every row. Rows also give
// each part only its own groups to scan for nonzeros.
constexpr int kMinColumnSplitVectors = 8;
constexpr int kColumnChunks = 2;
constexpr int64_t kMaxRowChunks = 16;

// The chunks a kernel doing `work` loop iterations divides into, or 0 if
// it runs whole.
int64_t ChunksFor(int64_t work) {
  return work < 2 * kChunkWork ? 0 : work / kChunkWork;
}

// Where a value is read. A flat index serves graphs whose every read
// follows the result's row-major order; otherwise each dimension has its
// own coordinate. With vectors, the last coordinate (or the flat index) is
// that of the first lane.
struct Position {
  std::vector<ExprPtr> coordinates;
  ExprPtr flat;
};

Position FlatIndex(ExprPtr flat) { return Position{.flat = std::move(flat)}; }
Position Coordinates(std::vector<ExprPtr> coordinates) {
  return Position{.coordinates = std::move(coordinates)};
}

// Σ coordinate_d · stride_d for a row-major `shape`, leaving out dimensions
// of size one, whose coordinate is always zero.
ExprPtr RowMajorOffset(const Shape& shape, const std::vector<ExprPtr>& index) {
  KILN_CHECK(index.size() == shape.size());
  const std::vector<int64_t> strides = RowMajorStrides(shape);
  ExprPtr offset;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    ExprPtr term = strides[d] == 1 ? index[d] : index[d] * strides[d];
    offset = offset ? offset + term : term;
  }
  return offset ? offset : IndexConstant(0);
}

std::vector<ExprPtr> Indices(const std::vector<Var>& vars) {
  std::vector<ExprPtr> indices;
  for (Var var : vars) indices.push_back(Index(var));
  return indices;
}

// A product whose sums are halved (ops/product_sums.h) becomes two kernels.
// The first computes each half's sums into a buffer of partial sums
// [2, m, n], one half per chunk, so that with two parts each computes one
// half from its own half of b's rows; the second adds the halves and
// applies the epilogue.
struct HalvedSums {
  enum class Stage { kNone, kPartialSums, kSumOfHalves };
  Stage stage = Stage::kNone;
  // kSumOfHalves: the buffer of partial sums.
  int partial_sums = -1;
};

// The product of a kernel whose sums are halved, or an invalid node.
Node HalvedProductOf(const KernelPlan& planned) {
  if (planned.kind != KernelPlan::Kind::kCompute || !planned.producer.ok() ||
      planned.producer.op() != OpKind::kMatMul) {
    return Node();
  }
  const Shape& a = planned.producer.input(0).shape();
  return HalvedSumSplit(a[0], a[1]) > 0 ? planned.producer : Node();
}

// Builds one kernel of a program.
class KernelLowering {
 public:
  // `add_local` adds a kernel-local scratch buffer of a dtype and size to
  // the program and returns its number.
  KernelLowering(const FusionPlan& plan, const LoweringOptions& options,
                 std::function<int(Node)> buffer_of,
                 std::function<int(DType, int64_t)> add_local, Kernel& kernel)
      : plan_(plan),
        options_(options),
        buffer_of_(std::move(buffer_of)),
        add_local_(std::move(add_local)),
        kernel_(kernel) {}

  // Lowers `planned`, storing its root's value into `target`, or one of
  // the two kernels of its product's halved sums.
  absl::Status Lower(const KernelPlan& planned, int target,
                     const HalvedSums& halves = {}) {
    halves_ = halves;
    root_ = planned.root;
    updates_in_place_ = planned.updates_in_place;
    target_ = target;
    kind_ = ScalarKindOf(root_.dtype());
    if (planned.kind != KernelPlan::Kind::kCompute) {
      // Snapshots and update copies read the value from its buffer, or
      // fill in the constant of a fill.
      copying_ = true;
      copy_source_ = root_.op() == OpKind::kFill ? -1 : buffer_of_(root_);
      return LowerElementwise();
    }
    if (!planned.producer.ok()) return LowerElementwise();
    producer_ = planned.producer;
    switch (GetOpInfo(producer_.op()).op_class) {
      case OpClass::kContraction:
        return LowerMatMul();
      case OpClass::kReduction:
        return LowerReduction();
      case OpClass::kRowwise:
        return LowerRowwise();
      case OpClass::kLoss:
        return LowerLoss();
      default:
        return absl::UnimplementedError(
            absl::StrCat("the JIT has no loop for ", OpName(producer_.op())));
    }
  }

 private:
  int VectorLanes() const {
    return options_.vector_bytes / static_cast<int>(DTypeSize(root_.dtype()));
  }

  // Whether the kernel reads `node` from a buffer. The root is always
  // computed, even when it has a buffer: that is where the kernel stores.
  bool IsLoaded(Node node) const {
    return !(node == root_) &&
           (plan_.materialized[node.id()] || IsBufferLeaf(node.op()));
  }

  bool IsProducer(Node node) const {
    return producer_.ok() && node == producer_;
  }

  // ---- What can be read how ----

  // Whether every read under `node` follows its row-major order, so that a
  // flat index serves them all.
  bool FlatReadable(Node node) const {
    if (IsProducer(node)) return false;
    if (IsLoaded(node) || node.op() == OpKind::kFill) return true;
    switch (node.op()) {
      case OpKind::kTranspose:
      case OpKind::kOneHot:
        return false;
      case OpKind::kReshape:
        return true;
      case OpKind::kBroadcast: {
        const int64_t from = NumElements(node.input(0).shape());
        return (from == 1 || from == NumElements(node.shape())) &&
               FlatReadable(node.input(0));
      }
      default:
        for (int i = 0; i < node.num_inputs(); ++i) {
          if (!FlatReadable(node.input(i))) return false;
        }
        return true;
    }
  }

  // Whether `node` can be read as vectors along its last dimension.
  bool VectorReadable(Node node) const {
    if (IsProducer(node) || IsLoaded(node) || node.op() == OpKind::kFill) {
      return true;
    }
    switch (node.op()) {
      case OpKind::kOneHot:
        return false;
      case OpKind::kTranspose: {
        const std::vector<int>& permutation = node.attributes().permutation;
        return permutation.back() == node.rank() - 1 &&
               VectorReadable(node.input(0));
      }
      case OpKind::kReshape:
        return true;
      default:
        for (int i = 0; i < node.num_inputs(); ++i) {
          if (!VectorReadable(node.input(i))) return false;
        }
        return true;
    }
  }

  // ---- Values ----

  ExprPtr Load(int buffer, ExprPtr offset, ScalarKind kind, int lanes) {
    NoteRead(buffer);
    return ::kiln::jit::Load(buffer, std::move(offset), kind, lanes,
                             lanes > 1 ? active_lanes_ : 0);
  }

  // While one lives, vectors the kernel loads and stores touch only their
  // first `active` lanes (0: all): the vector overhangs the end of a row.
  class ActiveLanes {
   public:
    ActiveLanes(KernelLowering& lowering, int active)
        : lowering_(lowering), saved_(lowering.active_lanes_) {
      lowering_.active_lanes_ = active;
    }
    ~ActiveLanes() { lowering_.active_lanes_ = saved_; }

   private:
    KernelLowering& lowering_;
    int saved_;
  };

  void NoteRead(int buffer) {
    if (std::find(kernel_.buffers_read.begin(), kernel_.buffers_read.end(),
                  buffer) == kernel_.buffers_read.end()) {
      kernel_.buffers_read.push_back(buffer);
    }
  }

  ExprPtr Splat(ExprPtr scalar, int lanes) {
    return lanes == 1 ? scalar : Broadcast(std::move(scalar), lanes);
  }

  // The value of `node` at `index`, `lanes` elements wide.
  ExprPtr Value(Node node, const Position& index, int lanes) {
    const ScalarKind kind = ScalarKindOf(node.dtype());
    if (IsProducer(node)) {
      KILN_CHECK(producer_value_ != nullptr);
      return producer_value_;
    }
    if (node.op() == OpKind::kFill) {
      return Constant(node.attributes().scalar, kind, lanes);
    }
    if (node.op() == OpKind::kConstant && NumElements(node.shape()) == 1) {
      return Constant(node.attributes().value->At(0), kind, lanes);
    }
    if (IsLoaded(node)) {
      const ExprPtr offset =
          index.flat ? index.flat
                     : RowMajorOffset(node.shape(), index.coordinates);
      return Load(buffer_of_(node), offset, kind, lanes);
    }
    auto operand = [&](int i) { return Value(node.input(i), index, lanes); };
    auto constant = [&](double value) { return Constant(value, kind, lanes); };
    auto to_float = [&](BinaryOp compare) {
      return ToFloat(Binary(compare, operand(0), operand(1)), kind);
    };
    switch (node.op()) {
      case OpKind::kAdd:
        return Binary(BinaryOp::kAdd, operand(0), operand(1));
      case OpKind::kSub:
        return Binary(BinaryOp::kSub, operand(0), operand(1));
      case OpKind::kMul:
        return Binary(BinaryOp::kMul, operand(0), operand(1));
      case OpKind::kDiv:
        return Binary(BinaryOp::kDiv, operand(0), operand(1));
      case OpKind::kNeg:
        return Unary(UnaryOp::kNeg, operand(0));
      case OpKind::kExp:
        return Unary(UnaryOp::kExp, operand(0));
      case OpKind::kLog:
        return Unary(UnaryOp::kLog, operand(0));
      case OpKind::kSquare: {
        ExprPtr x = operand(0);
        return Binary(BinaryOp::kMul, x, x);
      }
      case OpKind::kSigmoid: {
        // The reference's two branches, 1/(1 + e^−x) for x ≥ 0 and
        // e^x/(1 + e^x) below, share e^−|x| and the denominator, and pick
        // their numerator before the one division: an exponential and a
        // division per element, each rounded as the reference rounds it.
        ExprPtr x = operand(0);
        ExprPtr e =
            Unary(UnaryOp::kExp, Unary(UnaryOp::kNeg, Unary(UnaryOp::kAbs, x)));
        ExprPtr one = constant(1);
        ExprPtr numerator =
            Select(Binary(BinaryOp::kGreaterEqual, x, constant(0)), one, e);
        return Binary(BinaryOp::kDiv, numerator,
                      Binary(BinaryOp::kAdd, one, e));
      }
      case OpKind::kTanh:
        return Unary(UnaryOp::kTanh, operand(0));
      case OpKind::kRelu: {
        ExprPtr x = operand(0);
        return Select(Binary(BinaryOp::kGreater, x, constant(0)), x,
                      constant(0));
      }
      case OpKind::kLeakyRelu: {
        ExprPtr x = operand(0);
        return Select(
            Binary(BinaryOp::kGreater, x, constant(0)), x,
            Binary(BinaryOp::kMul, constant(node.attributes().scalar), x));
      }
      case OpKind::kLess:
        return to_float(BinaryOp::kLess);
      case OpKind::kLessEqual:
        return to_float(BinaryOp::kLessEqual);
      case OpKind::kGreater:
        return to_float(BinaryOp::kGreater);
      case OpKind::kGreaterEqual:
        return to_float(BinaryOp::kGreaterEqual);
      case OpKind::kEqual:
        return to_float(BinaryOp::kEqual);
      case OpKind::kNotEqual:
        return to_float(BinaryOp::kNotEqual);
      case OpKind::kSelect:
        return Select(Binary(BinaryOp::kNotEqual, operand(0), constant(0)),
                      operand(1), operand(2));
      case OpKind::kBroadcast:
        return BroadcastValue(node, index, lanes);
      case OpKind::kTranspose: {
        KILN_CHECK(!index.flat);
        const std::vector<int>& permutation = node.attributes().permutation;
        std::vector<ExprPtr> from(permutation.size());
        for (size_t d = 0; d < permutation.size(); ++d) {
          from[permutation[d]] = index.coordinates[d];
        }
        return Value(node.input(0), Coordinates(std::move(from)), lanes);
      }
      case OpKind::kReshape: {
        // The input has a buffer (or is a fill): read it at the flat
        // offset, which a reshape keeps.
        Node input = node.input(0);
        const ExprPtr offset =
            index.flat ? index.flat
                       : RowMajorOffset(node.shape(), index.coordinates);
        return Value(input, FlatIndex(offset), lanes);
      }
      case OpKind::kOneHot: {
        KILN_CHECK(!index.flat && lanes == 1);
        std::vector<ExprPtr> row = index.coordinates;
        ExprPtr column = row.back();
        row.pop_back();
        ExprPtr label = Value(node.input(0), Coordinates(std::move(row)), 1);
        return ToFloat(
            Binary(BinaryOp::kEqual, label, IndexToFloat(column, kind)), kind);
      }
      default:
        KILN_CHECK(false) << "no inline form for " << OpName(node.op());
        return nullptr;
    }
  }

  ExprPtr BroadcastValue(Node node, const Position& index, int lanes) {
    Node input = node.input(0);
    const Shape& from = input.shape();
    const Shape& to = node.shape();
    if (index.flat) {
      // FlatReadable allows a single element, or the same elements with
      // leading ones added.
      if (NumElements(from) == 1) {
        return Splat(Value(input, FlatIndex(IndexConstant(0)), 1), lanes);
      }
      return Value(input, index, lanes);
    }
    const size_t skipped = to.size() - from.size();
    std::vector<ExprPtr> coordinates;
    for (size_t d = 0; d < from.size(); ++d) {
      coordinates.push_back(from[d] == 1 ? IndexConstant(0)
                                         : index.coordinates[skipped + d]);
    }
    const bool last_repeats =
        from.empty() || (from.back() == 1 && to.back() != 1);
    if (last_repeats) {
      return Splat(Value(input, Coordinates(std::move(coordinates)), 1), lanes);
    }
    return Value(input, Coordinates(std::move(coordinates)), lanes);
  }

  // The root's value where the kernel stores, with the producer (if any)
  // already computed as `producer_value`.
  ExprPtr RootValue(const Position& index, int lanes, ExprPtr producer_value) {
    producer_value_ = std::move(producer_value);
    if (copying_) {
      if (copy_source_ < 0) {
        return Constant(root_.attributes().scalar, kind_, lanes);
      }
      return Load(copy_source_,
                  index.flat ? index.flat
                             : RowMajorOffset(root_.shape(), index.coordinates),
                  kind_, lanes);
    }
    return Value(root_, index, lanes);
  }

  StmtPtr StoreRoot(const Position& index, ExprPtr value) {
    const ExprPtr offset =
        index.flat ? index.flat
                   : RowMajorOffset(root_.shape(), index.coordinates);
    const int active = value->type.lanes > 1 ? active_lanes_ : 0;
    return Store(target_, offset, std::move(value), active);
  }

  // ---- Loop helpers ----

  // Loops `var` over [begin, end): vectors of `lanes` while they fit, then
  // one element at a time. `body(lanes)` gives the statements of one step.
  std::vector<StmtPtr> VectorLoop(
      Var var, int64_t begin, int64_t end, int lanes,
      const std::function<std::vector<StmtPtr>(int)>& body) {
    std::vector<StmtPtr> loops;
    const int64_t vector_end = begin + (end - begin) / lanes * lanes;
    if (lanes > 1 && vector_end > begin) {
      loops.push_back(For(var, begin, vector_end, lanes, body(lanes)));
    }
    const int64_t tail_begin = lanes > 1 ? vector_end : begin;
    if (tail_begin < end)
      loops.push_back(For(var, tail_begin, end, 1, body(1)));
    return loops;
  }

  // Nests loops over `extents`, innermost last, around `body`, which gets
  // the loop variables; the innermost loop is vectorised when `lanes` > 1.
  // With `chunks` > 0, the outermost loop is split into that many chunks
  // (see KernelSplit), in whole vectors when it is also the innermost.
  StmtPtr Nest(const std::vector<int64_t>& extents, int lanes,
               const std::function<std::vector<StmtPtr>(const std::vector<Var>&,
                                                        int)>& body,
               int64_t chunks = 0) {
    std::vector<Var> vars;
    for (size_t d = 0; d < extents.size(); ++d) vars.push_back(NewVar(kernel_));
    if (extents.empty()) return Block(body(vars, 1));
    auto step = [&](int step_lanes) { return body(vars, step_lanes); };
    if (chunks > 0 && extents.size() == 1) {
      SplitKernel(kernel_, extents[0], lanes, chunks);
      return Block(SplitVectorLoop(vars[0], lanes, step));
    }
    std::vector<StmtPtr> inner =
        VectorLoop(vars.back(), 0, extents.back(), lanes, step);
    for (int d = static_cast<int>(extents.size()) - 2; d >= 0; --d) {
      if (chunks > 0 && d == 0) {
        SplitKernel(kernel_, extents[0], 1, chunks);
        inner = {For(vars[0], SplitBegin(), SplitEnd(), 1, std::move(inner))};
      } else {
        inner = {For(vars[d], 0, extents[d], 1, std::move(inner))};
      }
    }
    return Block(std::move(inner));
  }

  // The current chunk of a split kernel's iterations, and the end of its
  // whole grains.
  ExprPtr SplitBegin() const { return Index(kernel_.split.begin); }
  ExprPtr SplitEnd() const { return Index(kernel_.split.end); }
  ExprPtr SplitGrainEnd() const { return Index(kernel_.split.grain_end); }

  // VectorLoop over the chunk of a kernel split in grains of `lanes`:
  // vectors to the end of the whole grains, then single elements.
  std::vector<StmtPtr> SplitVectorLoop(
      Var var, int lanes,
      const std::function<std::vector<StmtPtr>(int)>& body) {
    std::vector<StmtPtr> loops;
    if (lanes > 1) {
      loops.push_back(
          For(var, SplitBegin(), SplitGrainEnd(), lanes, body(lanes)));
    }
    loops.push_back(For(var, lanes > 1 ? SplitGrainEnd() : SplitBegin(),
                        SplitEnd(), 1, body(1)));
    return loops;
  }

  // ---- Kernels ----

  absl::Status LowerElementwise() {
    const int lanes = VectorLanes();
    const int64_t elements = NumElements(root_.shape());
    const int64_t chunks = ChunksFor(elements);
    if (copying_ || FlatReadable(root_)) {
      Var flat = NewVar(kernel_);
      auto step = [&](int step_lanes) {
        const Position index = FlatIndex(Index(flat));
        return std::vector<StmtPtr>{
            StoreRoot(index, RootValue(index, step_lanes, nullptr))};
      };
      if (chunks > 0) {
        SplitKernel(kernel_, elements, lanes, chunks);
        kernel_.body = Block(SplitVectorLoop(flat, lanes, step));
      } else {
        kernel_.body = Block(VectorLoop(flat, 0, elements, lanes, step));
      }
      return absl::OkStatus();
    }
    const int nest_lanes = VectorReadable(root_) ? lanes : 1;
    kernel_.body = Nest(
        root_.shape(), nest_lanes,
        [&](const std::vector<Var>& vars, int step_lanes) {
          const Position index = Coordinates(Indices(vars));
          return std::vector<StmtPtr>{
              StoreRoot(index, RootValue(index, step_lanes, nullptr))};
        },
        chunks);
    return absl::OkStatus();
  }

  // ---- Matrix products ----

  // One vector of accumulators of a register block: `lanes` columns from
  // `column` on, relative to the block's first column.
  struct Slot {
    int64_t column;
    int lanes;
    // Columns the vector really covers, when it overhangs the row's end;
    // 0 when it covers all its lanes.
    int active = 0;
  };

  // The vectors that cover `n` columns: full vectors of `widest` lanes,
  // then one vector for the rest, narrower when the rest is a power of two
  // of at least 4 lanes, else a full-width vector of which only the first
  // lanes are active. Without vectors, single columns.
  static std::vector<Slot> RowSlots(int64_t n, int widest) {
    std::vector<Slot> slots;
    int64_t column = 0;
    if (widest == 1) {
      for (; column < n; ++column) slots.push_back({column, 1});
      return slots;
    }
    for (; n - column >= widest; column += widest) {
      slots.push_back({column, widest});
    }
    const int rest = static_cast<int>(n - column);
    if (rest == 0) return slots;
    if (rest >= 4 && (rest & (rest - 1)) == 0) {
      slots.push_back({column, rest});
    } else {
      slots.push_back({column, widest, rest});
    }
    return slots;
  }

  // The rows a product's loops cover: [begin, grain_end) in register blocks,
  // then [grain_end, end) one row at a time.
  struct RowRange {
    ExprPtr begin, grain_end, end;
  };

  // The terms p in [begin, end) that a product's loops add up: all of
  // [0, k), or one half of a halved sum (ops/product_sums.h). The sums of
  // a half are stored raw into the partial-sums buffer, the kernel's
  // target, at partial_offset (see LowerPartialSums); any other sums go
  // through the epilogue into the root.
  struct SumRange {
    int64_t begin = 0;
    int64_t end = 0;
    int64_t partial_offset = -1;
  };

  absl::Status LowerMatMul() {
    Node a = producer_.input(0);
    Node b = producer_.input(1);
    const int64_t m = a.shape()[0];
    const int64_t k = a.shape()[1];
    const int64_t n = b.shape()[1];
    const int widest = VectorReadable(root_) ? VectorLanes() : 1;
    switch (halves_.stage) {
      case HalvedSums::Stage::kPartialSums:
        return LowerPartialSums(a, b, k, n, widest);
      case HalvedSums::Stage::kSumOfHalves:
        return LowerSumOfHalves(m, n, widest);
      case HalvedSums::Stage::kNone:
        break;
    }
    std::optional<ZeroSkipping> skipping = PlanZeroSkipping(a, b, n, widest);
    // Parts get whole register blocks (or groups, which are whole blocks
    // too) of rows; only the last part has single rows.
    const int grain = RowGrain(skipping);
    RowRange rows{IndexConstant(0), IndexConstant(m / grain * grain),
                  IndexConstant(m)};
    const int64_t chunks = ChunksFor(m * k * n);
    if (chunks > 0 && skipping.has_value() && skipping->row_group == 0 &&
        RowSlots(n, widest).size() >= kMinColumnSplitVectors) {
      // Only the row-block product (row_group 0) splits by columns; see
      // kMinColumnSplitVectors.
      return LowerColumnSplitMatMul(a, b, k, n, widest, *skipping, rows);
    }
    const int64_t halved_rows =
        chunks > 0 ? HalvedRowsOfUpdatedWeight(m, grain) : 0;
    if (halved_rows > 0) {
      // Two chunks, split where the halved product splits its sums.
      SplitKernel(kernel_, 2, 1, 2);
    } else if (chunks > 0) {
      SplitKernel(kernel_, m, grain, chunks);
      rows = {SplitBegin(), SplitGrainEnd(), SplitEnd()};
    }
    const SumRange sum{.begin = 0, .end = k};
    // The decision is taken once per part, before its first chunk.
    std::vector<StmtPtr> decide;
    ExprPtr skip;
    if (skipping.has_value()) {
      skip = ZeroSkippingPays(*skipping, SampleDensity(*skipping, decide), sum,
                              decide);
    }
    auto product_of = [&](const RowRange& part_rows) -> std::vector<StmtPtr> {
      std::vector<StmtPtr> dense = DenseMatMul(a, b, sum, n, widest, part_rows);
      if (!skipping.has_value()) return dense;
      std::vector<StmtPtr> sparse =
          skipping->row_group > 0
              ? GroupedSkippingMatMul(a, b, k, n, *skipping, part_rows)
              : SkippingMatMul(a, b, sum, *skipping, part_rows);
      return {If(skip, std::move(sparse), std::move(dense))};
    };
    std::vector<StmtPtr> body;
    if (halved_rows > 0) {
      const int64_t second_end =
          halved_rows + (m - halved_rows) / grain * grain;
      body = {If(ChunkHoldsHalf(0),
                 product_of({IndexConstant(0), IndexConstant(halved_rows),
                             IndexConstant(halved_rows)})),
              If(ChunkHoldsHalf(1),
                 product_of({IndexConstant(halved_rows),
                             IndexConstant(second_end), IndexConstant(m)}))};
    } else {
      body = product_of(rows);
    }
    if (chunks > 0) {
      if (!decide.empty()) kernel_.prologue = Block(std::move(decide));
      kernel_.body = Block(std::move(body));
    } else {
      for (StmtPtr& statement : body) decide.push_back(std::move(statement));
      kernel_.body = Block(std::move(decide));
    }
    return absl::OkStatus();
  }

  // Whether the current chunk [begin, end) of a kernel split into the two
  // iterations {0, 1}, one per half, holds half `half`.
  ExprPtr ChunkHoldsHalf(int64_t half) const {
    return half == 0 ? Binary(BinaryOp::kLess, SplitBegin(), IndexConstant(1))
                     : Binary(BinaryOp::kGreater, SplitEnd(), IndexConstant(1));
  }

  // The row at which a product that updates a weight in place splits its
  // rows into two chunks, or 0 for the usual chunks: when a halved product
  // (see HalvedSums) reads that weight as its right operand, its split,
  // if whole grains make it up. Each of two parts then writes the rows
  // that it reads in the halved product, and none writes a line that the
  // other reads in the next step; finer chunks would balance the parts'
  // work better but move the rows between them.
  int64_t HalvedRowsOfUpdatedWeight(int64_t m, int grain) const {
    if (!updates_in_place_.ok()) return 0;
    for (const KernelPlan& other : plan_.kernels) {
      Node product = HalvedProductOf(other);
      if (!product.ok() || !(product.input(1) == updates_in_place_)) continue;
      const Shape& a = product.input(0).shape();
      const int64_t split = HalvedSumSplit(a[0], a[1]);
      if (a[1] == m && split % grain == 0) return split;
    }
    return 0;
  }

  // The first kernel of a product whose sums are halved (see HalvedSums):
  // chunk h of two adds the terms of half h for every row and stores the
  // sums into half h of the target, the [2, m, n] partial sums; a run of
  // one part computes both halves. Each half decides for itself whether to
  // skip the input's zeros, checking only its own rows of b, so that a
  // part that computes one half reads nothing of b's other half.
  absl::Status LowerPartialSums(Node a, Node b, int64_t k, int64_t n,
                                int widest) {
    const int64_t m = a.shape()[0];
    const int64_t split = HalvedSumSplit(m, k);
    KILN_CHECK(split > 0);
    std::optional<ZeroSkipping> skipping = PlanZeroSkipping(a, b, n, widest);
    // The grouped loop of a transposed input sums in its outer loop, over
    // the whole range; such products take the plain loop.
    if (skipping.has_value() && skipping->row_group > 0) skipping.reset();
    const RowRange rows{IndexConstant(0),
                        IndexConstant(m / kMatMulBlockRows * kMatMulBlockRows),
                        IndexConstant(m)};
    SplitKernel(kernel_, 2, 1, 2);
    // The sample serves both halves' decisions.
    std::vector<StmtPtr> prologue;
    SampledDensity density;
    if (skipping.has_value()) density = SampleDensity(*skipping, prologue);
    std::vector<StmtPtr> body;
    for (int64_t half = 0; half < 2; ++half) {
      const SumRange sum{.begin = half == 0 ? 0 : split,
                         .end = half == 0 ? split : k,
                         .partial_offset = half * m * n};
      std::vector<StmtPtr> product = DenseMatMul(a, b, sum, n, widest, rows);
      if (skipping.has_value()) {
        std::vector<StmtPtr> decide;
        ExprPtr skip = ZeroSkippingPays(*skipping, density, sum, decide);
        decide.push_back(If(skip, SkippingMatMul(a, b, sum, *skipping, rows),
                            std::move(product)));
        product = std::move(decide);
      }
      body.push_back(If(ChunkHoldsHalf(half), std::move(product)));
    }
    if (!prologue.empty()) kernel_.prologue = Block(std::move(prologue));
    kernel_.body = Block(std::move(body));
    return absl::OkStatus();
  }

  // The second kernel of a product whose sums are halved: for each row,
  // the first half's sums plus the second's, through the epilogue into the
  // root. Rows are split between the parts, at least two chunks of them,
  // so that both cores share this kernel and each then holds the rows it
  // wrote.
  absl::Status LowerSumOfHalves(int64_t m, int64_t n, int widest) {
    Var i = NewVar(kernel_);
    std::vector<StmtPtr> row;
    for (const Slot& slot : RowSlots(n, widest)) {
      ActiveLanes active(*this, slot.active);
      const Position index =
          Coordinates({Index(i), IndexConstant(slot.column)});
      ExprPtr at = Index(i) * n + slot.column;
      ExprPtr sums = Binary(
          BinaryOp::kAdd, Load(halves_.partial_sums, at, kind_, slot.lanes),
          Load(halves_.partial_sums, at + m * n, kind_, slot.lanes));
      row.push_back(StoreRoot(index, RootValue(index, slot.lanes, sums)));
    }
    const int64_t chunks = std::min(m, std::max<int64_t>(2, ChunksFor(m * n)));
    if (chunks < 2) {
      kernel_.body = For(i, 0, m, 1, std::move(row));
      return absl::OkStatus();
    }
    SplitKernel(kernel_, m, 1, chunks);
    kernel_.body = For(i, SplitBegin(), SplitEnd(), 1, std::move(row));
    return absl::OkStatus();
  }

  // The plain product: for each column segment, register blocks of
  // kMatMulBlockRows rows by up to MatMulBlockVectors vectors, the right
  // operand's panel reused across all row blocks.
  std::vector<StmtPtr> DenseMatMul(Node a, Node b, const SumRange& sum,
                                   int64_t n, int widest,
                                   const RowRange& rows) {
    // Column segments: blocks of several full-width vectors, then the
    // vectors of RowSlots, each run of equal ones in one loop.
    struct Segment {
      int64_t begin, end;
      int lanes, vectors;
      int active = 0;
    };
    std::vector<Segment> segments;
    int64_t column = 0;
    const int block_vectors = MatMulBlockVectors(options_.vector_bytes);
    const int64_t block = int64_t{widest} * block_vectors;
    if (widest > 1 && n >= block) {
      column = n / block * block;
      segments.push_back({0, column, widest, block_vectors});
    }
    for (const Slot& slot : RowSlots(n - column, widest)) {
      const int64_t begin = column + slot.column;
      const bool extends = !segments.empty() && segments.back().end == begin &&
                           segments.back().vectors == 1 &&
                           segments.back().lanes == slot.lanes &&
                           segments.back().active == 0 && slot.active == 0;
      if (extends) {
        segments.back().end += slot.lanes;
      } else {
        segments.push_back(
            {begin, begin + slot.lanes, slot.lanes, 1, slot.active});
      }
    }

    std::vector<StmtPtr> body;
    for (const Segment& segment : segments) {
      Var j = NewVar(kernel_);
      Var i = NewVar(kernel_);
      std::vector<Slot> slots;
      for (int c = 0; c < segment.vectors; ++c) {
        slots.push_back(
            {int64_t{c} * segment.lanes, segment.lanes, segment.active});
      }
      body.push_back(For(
          j, segment.begin, segment.end,
          int64_t{segment.lanes} * segment.vectors,
          {For(i, rows.begin, rows.grain_end, kMatMulBlockRows,
               MatMulBlock(a, b, sum, i, Index(j), kMatMulBlockRows, slots,
                           std::nullopt)),
           For(i, rows.grain_end, rows.end, 1,
               MatMulBlock(a, b, sum, i, Index(j), 1, slots, std::nullopt))}));
    }
    return body;
  }

  // One register block of the product: rows i .. i+rows, and the columns of
  // `slots` from `column` on. Each accumulator starts at zero and adds a·b
  // for p = 0, 1, ..., k−1 with a separate multiply and add, as the
  // reference does. With `scan`, p visits only the positions at which some
  // of the block's rows of a is nonzero; the terms left out are a·b with a
  // zero a and a finite b, exact zeros, and an accumulator that starts at +0
  // is never −0, so adding them would change no bit.
  std::vector<StmtPtr> MatMulBlock(Node a, Node b, const SumRange& sum, Var i,
                                   ExprPtr column, int rows,
                                   const std::vector<Slot>& slots,
                                   std::optional<NonzeroScan> scan) {
    std::vector<std::vector<Var>> accumulators(rows);
    std::vector<StmtPtr> block;
    for (int r = 0; r < rows; ++r) {
      for (const Slot& slot : slots) {
        accumulators[r].push_back(NewVar(kernel_));
        block.push_back(
            Assign(accumulators[r].back(), Constant(0, kind_, slot.lanes)));
      }
    }
    // A nonzero scan counts positions from the start of the range, a plain
    // loop from zero.
    Var p = NewVar(kernel_);
    ExprPtr position = scan.has_value() ? Index(p) + sum.begin : Index(p);
    std::vector<StmtPtr> step =
        scan.has_value() ? BlockStepByColumn(a, b, i, position, column, rows,
                                             slots, accumulators)
                         : BlockStepByRow(a, b, i, position, column, rows,
                                          slots, accumulators);
    if (scan.has_value()) {
      block.push_back(ForNonzero(p, *std::move(scan), std::move(step)));
    } else {
      block.push_back(For(p, sum.begin, sum.end, 1, std::move(step)));
    }
    for (int r = 0; r < rows; ++r) {
      for (size_t c = 0; c < slots.size(); ++c) {
        const int lanes = slots[c].lanes;
        ActiveLanes active(*this, slots[c].active);
        ExprPtr sums = VarRef(accumulators[r][c], {kind_, lanes});
        if (sum.partial_offset >= 0) {
          // Half of a halved sum, into its half of the partial sums.
          ExprPtr at = (Index(i) + int64_t{r}) * producer_.shape()[1] +
                       sum.partial_offset;
          block.push_back(Store(target_, column + slots[c].column + at, sums,
                                lanes > 1 ? slots[c].active : 0));
          continue;
        }
        const Position index =
            Coordinates({Index(i) + int64_t{r}, column + slots[c].column});
        block.push_back(StoreRoot(index, RootValue(index, lanes, sums)));
      }
    }
    return block;
  }

  // One step p of a register block, as the plain product runs it: every
  // right-operand vector loaded first, then each row's updates.
  std::vector<StmtPtr> BlockStepByRow(
      Node a, Node b, Var i, ExprPtr p, ExprPtr column, int rows,
      const std::vector<Slot>& slots,
      const std::vector<std::vector<Var>>& accumulators) {
    std::vector<StmtPtr> step;
    std::vector<Var> b_vectors;
    for (const Slot& slot : slots) {
      ActiveLanes active(*this, slot.active);
      b_vectors.push_back(NewVar(kernel_));
      step.push_back(
          Assign(b_vectors.back(),
                 Value(b, Coordinates({p, column + slot.column}), slot.lanes)));
    }
    for (int r = 0; r < rows; ++r) {
      std::map<int, Var> broadcasts = Broadcasts(a, i, p, r, slots, step);
      for (size_t c = 0; c < slots.size(); ++c) {
        step.push_back(Accumulate(accumulators[r][c],
                                  broadcasts[slots[c].lanes], b_vectors[c],
                                  slots[c].lanes));
      }
    }
    return step;
  }

  // One step p of a register block whose accumulators nearly fill the
  // registers: the broadcasts first, then each right-operand vector used
  // by every row as soon as it is loaded, so that one vector is live at a
  // time.
  std::vector<StmtPtr> BlockStepByColumn(
      Node a, Node b, Var i, ExprPtr p, ExprPtr column, int rows,
      const std::vector<Slot>& slots,
      const std::vector<std::vector<Var>>& accumulators) {
    std::vector<StmtPtr> step;
    std::vector<std::map<int, Var>> broadcasts;
    for (int r = 0; r < rows; ++r) {
      broadcasts.push_back(Broadcasts(a, i, p, r, slots, step));
    }
    for (size_t c = 0; c < slots.size(); ++c) {
      ActiveLanes active(*this, slots[c].active);
      Var b_vector = NewVar(kernel_);
      step.push_back(
          Assign(b_vector, Value(b, Coordinates({p, column + slots[c].column}),
                                 slots[c].lanes)));
      for (int r = 0; r < rows; ++r) {
        step.push_back(Accumulate(accumulators[r][c],
                                  broadcasts[r][slots[c].lanes], b_vector,
                                  slots[c].lanes));
      }
    }
    return step;
  }

  // Statements broadcasting a[i + r, p] once per width the slots use;
  // returns the variables by width.
  std::map<int, Var> Broadcasts(Node a, Var i, ExprPtr p, int r,
                                const std::vector<Slot>& slots,
                                std::vector<StmtPtr>& step) {
    ExprPtr element = Value(a, Coordinates({Index(i) + int64_t{r}, p}), 1);
    std::map<int, Var> broadcasts;
    for (const Slot& slot : slots) {
      if (broadcasts.contains(slot.lanes)) continue;
      broadcasts[slot.lanes] = NewVar(kernel_);
      step.push_back(
          Assign(broadcasts[slot.lanes], Splat(element, slot.lanes)));
    }
    return broadcasts;
  }

  // acc = acc + a·b, a separate multiply and add as the reference does.
  StmtPtr Accumulate(Var acc, Var a, Var b, int lanes) {
    const ValueType type{kind_, lanes};
    return Assign(
        acc, Binary(BinaryOp::kAdd, VarRef(acc, type),
                    Binary(BinaryOp::kMul, VarRef(a, type), VarRef(b, type))));
  }

  // ---- Skipping the zeros of an input ----

  // How a product skips the zeros of its left operand, a graph input or its
  // transpose: which buffer to scan and how, which buffer must be finite,
  // and the columns of each register block.
  struct ZeroSkipping {
    int a_buffer = -1;
    int64_t a_elements = 0;
    // Element (i, p) of a is a_buffer[i·row_stride + p·stride].
    int64_t stride = 1;
    int64_t row_stride = 0;
    int b_buffer = -1;
    int64_t b_elements = 0;
    int64_t b_row_length = 0;
    // Rows per register block, and the columns of each block.
    int block_rows = 1;
    std::vector<std::vector<Slot>> column_blocks;
    // For a transposed input: rows per group of the scratch-array loop
    // (see kMaxScratchBytes); 0 for register blocks.
    int row_group = 0;
  };

  // The rows a product gives each part at a time: the zero-skipping
  // product's groups, or the plain product's register blocks.
  static int RowGrain(const std::optional<ZeroSkipping>& skipping) {
    if (skipping.has_value() && skipping->row_group > 0) {
      return skipping->row_group;
    }
    return kMatMulBlockRows;
  }

  // The buffer holding `node`'s elements in row-major order: its own, or
  // its input's for a reshape; -1 if there is none.
  int RowMajorBuffer(Node node) const {
    if (IsLoaded(node) && node.op() != OpKind::kFill) return buffer_of_(node);
    if (node.op() == OpKind::kReshape && IsLoaded(node.input(0)) &&
        node.input(0).op() != OpKind::kFill) {
      return buffer_of_(node.input(0));
    }
    return -1;
  }

  std::optional<ZeroSkipping> PlanZeroSkipping(Node a, Node b, int64_t n,
                                               int widest) {
    if (!options_.skip_input_zeros) return std::nullopt;
    ZeroSkipping plan;
    const int64_t m = a.shape()[0];
    const int64_t k = a.shape()[1];
    // The left operand: an input, or the transpose of one, in a buffer.
    Node input = a;
    if (a.op() == OpKind::kTranspose && !IsLoaded(a)) {
      input = a.input(0);
      plan.stride = m;
      plan.row_stride = 1;
    } else {
      plan.stride = 1;
      plan.row_stride = k;
    }
    if (input.op() != OpKind::kInput || !IsLoaded(input)) return std::nullopt;
    plan.a_buffer = buffer_of_(input);
    plan.a_elements = m * k;
    plan.b_buffer = RowMajorBuffer(b);
    if (plan.b_buffer < 0) return std::nullopt;
    plan.b_elements = NumElements(b.shape());
    plan.b_row_length = n;

    // Vectors of accumulators across a row.
    const std::vector<Slot> slots = RowSlots(n, widest);

    if (plan.stride != 1) {
      // A transposed input: groups of rows in scratch, all columns at once.
      const int64_t row_bytes = n * DTypeSize(root_.dtype());
      int group = kMaxRowGroup;
      while (group > kMatMulBlockRows && group * row_bytes > kMaxScratchBytes) {
        group /= 2;
      }
      if (group * row_bytes > kMaxScratchBytes) return std::nullopt;
      plan.row_group = group;
      plan.column_blocks = {slots};
      return plan;
    }

    // Register blocks: as many rows (up to kMaxSkipBlockRows) as fit the
    // budget with every column, else single rows in column blocks, which
    // are dealt as evenly as they go.
    const int budget = AccumulatorBudget(options_.vector_bytes);
    const int64_t num_slots = static_cast<int64_t>(slots.size());
    for (int rows = kMaxSkipBlockRows; rows > 1; rows /= 2) {
      if (rows * num_slots <= budget) {
        plan.block_rows = rows;
        break;
      }
    }
    const int64_t per_block = budget / plan.block_rows;
    const int64_t blocks = (num_slots + per_block - 1) / per_block;
    if (blocks > kMaxSkipColumnBlocks) return std::nullopt;
    const int64_t size = (num_slots + blocks - 1) / blocks;
    for (int64_t first = 0; first < num_slots; first += size) {
      plan.column_blocks.emplace_back(
          slots.begin() + first,
          slots.begin() + std::min(num_slots, first + size));
    }
    return plan;
  }

  // The nonzeros counted in a sample of the left operand (see
  // kDensitySampleVectors), a variable, and the most that lets skipping
  // pay.
  struct SampledDensity {
    ExprPtr nonzeros;
    double threshold = 0;
  };

  // Statements that count the nonzeros of the sample, once per run or per
  // part, for the decisions of ZeroSkippingPays.
  SampledDensity SampleDensity(const ZeroSkipping& plan,
                               std::vector<StmtPtr>& statements) {
    auto nonzero = [&](ExprPtr x) {
      return ToFloat(
          Binary(BinaryOp::kNotEqual, x, Constant(0, kind_, x->type.lanes)),
          kind_);
    };
    const int64_t a_vectors = plan.a_elements / VectorLanes();
    const int64_t sample_step =
        std::max<int64_t>(1, a_vectors / kDensitySampleVectors);
    int64_t sampled_elements = 0;
    ExprPtr nonzeros =
        FlatFold(plan.a_buffer, plan.a_elements, BinaryOp::kAdd, nonzero,
                 statements, sample_step, &sampled_elements);
    Var count = NewVar(kernel_);
    statements.push_back(Assign(count, nonzeros));
    return {.nonzeros = VarRef(count, {kind_, 1}),
            .threshold = std::floor(kSkipMaxDensity *
                                    static_cast<double>(sampled_elements))};
  }

  // Statements that decide whether skipping pays and is exact: the
  // sample's density is low enough, and the right operand finite in the
  // rows that `sum` reads (all of them but for half of a halved sum), so
  // that every skipped term is an exact zero. Returns the decision: a
  // variable that the statements assign, so that a prologue can take it
  // once for every chunk.
  ExprPtr ZeroSkippingPays(const ZeroSkipping& plan,
                           const SampledDensity& density, const SumRange& sum,
                           std::vector<StmtPtr>& statements) {
    // x − x is +0 for a finite x and NaN for ±inf and NaN, so their sum is
    // +0 exactly when every element is finite.
    auto zero_if_finite = [&](ExprPtr x) {
      return Binary(BinaryOp::kSub, x, x);
    };
    ExprPtr finite_sum =
        FlatFold(plan.b_buffer, (sum.end - sum.begin) * plan.b_row_length,
                 BinaryOp::kAdd, zero_if_finite, statements, /*vector_step=*/1,
                 /*folded=*/nullptr, /*first=*/sum.begin * plan.b_row_length);
    // Counts above the threshold, or a right operand that is not finite,
    // choose the plain product.
    ExprPtr count =
        Select(Binary(BinaryOp::kEqual, finite_sum, Constant(0, kind_)),
               density.nonzeros, Constant(density.threshold + 1, kind_));
    Var skip = NewVar(kernel_);
    statements.push_back(
        Assign(skip, Binary(BinaryOp::kLessEqual, count,
                            Constant(density.threshold, kind_))));
    return VarRef(skip, {ScalarKind::kBool, 1});
  }

  // Statements that combine term(x) over the `elements` elements of
  // `buffer` from element `first` on with `op` (kAdd or kMax), vectors
  // first and then a scalar tail; returns the scalar result. With a
  // `vector_step` above 1 they take only every vector_step-th vector and no
  // tail, a sample; the elements taken are counted into `*folded` when it is
  // given. The terms must be ones whose combination is exact in any order:
  // counts (0 or 1), whose sums of up to 2^24 are exact in f32, which is more
  // than a decision needs, or terms that are +0 or NaN. The vectors therefore
  // go to kFoldChains accumulators in turn, whose chains of dependent
  // operations overlap, and are combined at the end.
  ExprPtr FlatFold(int buffer, int64_t elements, BinaryOp op,
                   const std::function<ExprPtr(ExprPtr)>& term,
                   std::vector<StmtPtr>& statements, int64_t vector_step = 1,
                   int64_t* folded = nullptr, int64_t first = 0) {
    const int lanes = VectorLanes();
    const ValueType type{kind_, lanes};
    const int64_t vectors = elements / lanes;
    // The vectors taken, vector_step·lanes elements apart.
    const int64_t stride = vector_step * lanes;
    const int64_t taken = (vectors + vector_step - 1) / vector_step;
    const int chains = static_cast<int>(std::min<int64_t>(kFoldChains, taken));
    ExprPtr result = Constant(0, kind_);
    if (taken > 0) {
      std::vector<Var> totals;
      for (int t = 0; t < chains; ++t) {
        totals.push_back(NewVar(kernel_));
        statements.push_back(Assign(totals.back(), Constant(0, kind_, lanes)));
      }
      auto fold_into = [&](Var total, ExprPtr at) {
        return Assign(total,
                      Binary(op, VarRef(total, type),
                             term(Load(buffer, at + first, kind_, lanes))));
      };
      // Groups of `chains` vectors, then the vectors left over into the
      // first accumulator.
      const int64_t group = int64_t{chains} * stride;
      const int64_t grouped_end = taken / chains * group;
      Var q = NewVar(kernel_);
      std::vector<StmtPtr> step;
      for (int t = 0; t < chains; ++t) {
        step.push_back(fold_into(totals[t], Index(q) + int64_t{t} * stride));
      }
      statements.push_back(For(q, 0, grouped_end, group, std::move(step)));
      if (grouped_end < vectors * lanes) {
        Var r = NewVar(kernel_);
        statements.push_back(For(r, grouped_end, vectors * lanes, stride,
                                 {fold_into(totals[0], Index(r))}));
      }
      ExprPtr combined = VarRef(totals[0], type);
      for (int t = 1; t < chains; ++t) {
        combined = Binary(op, combined, VarRef(totals[t], type));
      }
      result = ReduceLanes(op, combined);
    }
    int64_t count = taken * lanes;
    if (vector_step == 1 && vectors * lanes < elements) {
      Var tail = NewVar(kernel_);
      Var q = NewVar(kernel_);
      const ValueType scalar{kind_, 1};
      statements.push_back(Assign(tail, result));
      statements.push_back(For(
          q, vectors * lanes, elements, 1,
          {Assign(tail,
                  Binary(op, VarRef(tail, scalar),
                         term(Load(buffer, Index(q) + first, kind_, 1))))}));
      result = VarRef(tail, scalar);
      count = elements;
    }
    if (folded != nullptr) *folded = count;
    return result;
  }

  // A row-block zero-skipping product split by columns: in a run of
  // several parts, each chunk computes rows of one of kColumnChunks column
  // ranges, the chunks of a range next to each other, so that a part
  // claiming chunks from one end (see KernelQueue) reads mostly its own
  // share of the right operand, the same in every run, where rows of a
  // sparse input would give every part all of the right operand and
  // unequal work. Rows come in at most kMaxRowChunks chunks of whole grains
  // per range, when whole grains make up all the rows, so that a part that
  // loses its core holds up the others for a small part of the kernel.
  // A run of one part computes the whole product at once, as an unsplit
  // kernel does. Each output's sum is the same either way.
  absl::Status LowerColumnSplitMatMul(Node a, Node b, int64_t k, int64_t n,
                                      int widest, const ZeroSkipping& plan,
                                      const RowRange& all_rows) {
    const RowChunks row_chunks = RowChunksOf(a.shape()[0], RowGrain(plan));
    const int64_t chunk_count = kColumnChunks * row_chunks.count;
    SplitKernel(kernel_, chunk_count, 1, chunk_count);
    std::vector<StmtPtr> decide;
    ExprPtr skip = ZeroSkippingPays(plan, SampleDensity(plan, decide),
                                    {.begin = 0, .end = k}, decide);
    kernel_.prologue = Block(std::move(decide));
    StmtPtr sparse =
        SparseColumnChunks(a, b, k, n, widest, plan, all_rows, row_chunks);
    std::vector<StmtPtr> plain =
        DenseMatMul(a, b, {.begin = 0, .end = k}, n, widest,
                    PlainRowsOfChunk(a.shape()[0], row_chunks));
    kernel_.body = If(skip, {sparse}, std::move(plain));
    return absl::OkStatus();
  }

  // How LowerColumnSplitMatMul divides the m rows of a column range:
  // `count` chunks of `rows` rows, whole grains, the last cut at m; a
  // single chunk of all rows when the grains do not make up all of them.
  struct RowChunks {
    int64_t m = 0;
    int64_t grain = 1;
    int64_t count = 1;
    int64_t rows = 0;
  };

  static RowChunks RowChunksOf(int64_t m, int64_t grain) {
    RowChunks chunks{.m = m, .grain = grain, .count = 1, .rows = m};
    if (m % grain != 0) return chunks;
    const int64_t grains = m / grain;
    const int64_t grains_per_chunk =
        (grains + kMaxRowChunks - 1) / kMaxRowChunks;
    chunks.count = (grains + grains_per_chunk - 1) / grains_per_chunk;
    chunks.rows = grains_per_chunk * grain;
    return chunks;
  }

  // The sparse side of a column-split product: in a run of several parts,
  // chunk c·row_chunks.count + r, the single iteration [that, +1), is rows
  // of chunk r of column range c; a run of one part has every iteration
  // and computes all columns and rows at once, with the plan's column
  // blocks.
  StmtPtr SparseColumnChunks(Node a, Node b, int64_t k, int64_t n, int widest,
                             const ZeroSkipping& plan, const RowRange& all_rows,
                             const RowChunks& row_chunks) {
    const std::vector<Slot> slots = RowSlots(n, widest);
    auto sparse = [&](const std::vector<Slot>& part, const RowRange& rows) {
      ZeroSkipping columns = plan;
      if (part.size() < slots.size()) columns.column_blocks = {part};
      return Block(SkippingMatMul(a, b, {.begin = 0, .end = k}, columns, rows));
    };
    std::vector<StmtPtr> chunks;
    const int64_t count = static_cast<int64_t>(slots.size());
    for (int c = kColumnChunks - 1; c >= 0; --c) {
      const std::vector<Slot> part(
          slots.begin() + (c * count + kColumnChunks - 1) / kColumnChunks,
          slots.begin() +
              ((c + 1) * count + kColumnChunks - 1) / kColumnChunks);
      ExprPtr first_row =
          (SplitBegin() + int64_t{-c} * row_chunks.count) * row_chunks.rows;
      ExprPtr end_row = Binary(BinaryOp::kMin, first_row + row_chunks.rows,
                               IndexConstant(row_chunks.m));
      std::vector<StmtPtr> this_chunk = {sparse(
          part, row_chunks.count > 1 ? RowRange{first_row, end_row, end_row}
                                     : all_rows)};
      if (c == kColumnChunks - 1) {
        chunks = std::move(this_chunk);
      } else {
        chunks = {If(Binary(BinaryOp::kLess, SplitBegin(),
                            IndexConstant((c + 1) * row_chunks.count)),
                     std::move(this_chunk), std::move(chunks))};
      }
    }
    ExprPtr whole =
        Binary(BinaryOp::kEqual, SplitEnd() + SplitBegin() * int64_t{-1},
               IndexConstant(kColumnChunks * row_chunks.count));
    return If(std::move(whole), {sparse(slots, all_rows)}, std::move(chunks));
  }

  // The rows the plain side of a column-split product computes, all
  // columns at once, so that the kernel holds one copy of it: iteration i
  // has rows [i·rows, (i + 1)·rows) cut at m, which gives the chunks of
  // the first column range their rows, the others nothing, and a run of
  // one part all rows.
  RowRange PlainRowsOfChunk(int64_t m, const RowChunks& row_chunks) const {
    ExprPtr first_row = SplitBegin() * row_chunks.rows;
    ExprPtr end_row =
        Binary(BinaryOp::kMin, SplitEnd() * row_chunks.rows, IndexConstant(m));
    ExprPtr grain_end =
        Binary(BinaryOp::kMax, first_row,
               Binary(BinaryOp::kMin, end_row,
                      IndexConstant(m / row_chunks.grain * row_chunks.grain)));
    return {first_row, grain_end, end_row};
  }

  // The zero-skipping product: for each column block, register blocks of
  // plan.block_rows rows that visit only their rows' nonzero positions.
  std::vector<StmtPtr> SkippingMatMul(Node a, Node b, const SumRange& sum,
                                      const ZeroSkipping& plan,
                                      const RowRange& rows) {
    static_assert(kMatMulBlockRows % kMaxSkipBlockRows == 0,
                  "parts get whole blocks of both products");
    const int block_rows_max = plan.block_rows;
    std::vector<StmtPtr> body;
    for (const std::vector<Slot>& slots : plan.column_blocks) {
      const ExprPtr column = IndexConstant(slots.front().column);
      std::vector<Slot> relative;
      for (const Slot& slot : slots) {
        relative.push_back(
            {slot.column - slots.front().column, slot.lanes, slot.active});
      }
      // Blocks to the end of the part's whole grains, then single rows,
      // unless the blocks are single rows already.
      std::vector<int> block_sizes = {block_rows_max};
      if (block_rows_max > 1) block_sizes.push_back(1);
      for (int block_rows : block_sizes) {
        Var i = NewVar(kernel_);
        const NonzeroScan scan{
            .buffer = plan.a_buffer,
            .index = Index(i) * plan.row_stride + sum.begin * plan.stride,
            .extent = sum.end - sum.begin,
            .stride = plan.stride,
            .rows = block_rows,
            .row_stride = plan.row_stride};
        const bool blocked = block_rows == block_rows_max;
        ExprPtr from = blocked ? rows.begin : rows.grain_end;
        ExprPtr to = blocked && block_rows_max > 1 ? rows.grain_end : rows.end;
        body.push_back(
            For(i, from, to, block_rows,
                MatMulBlock(a, b, sum, i, column, block_rows, relative, scan)));
      }
    }
    return body;
  }

  // The zero-skipping product for a left operand that is the transpose of
  // an input X [k, m]: a[i, p] = X[p, i]. Output rows come in groups of
  // plan.row_group whose partial sums live in a local scratch array; for
  // each p, one contiguous scan of X[p, group] finds the group's rows that
  // get a term, and each such row adds a·b[p, :] to its partial sums. Every
  // sum still runs over p in increasing order from zero, so the result is
  // the plain product's, bit for bit.
  std::vector<StmtPtr> GroupedSkippingMatMul(Node a, Node b, int64_t k,
                                             int64_t n,
                                             const ZeroSkipping& plan,
                                             const RowRange& rows) {
    const int64_t m = a.shape()[0];
    const int group = plan.row_group;
    const int64_t stride = GroupScratchStride(n);
    const int scratch = GroupScratch(n, plan);
    const std::vector<Slot>& slots = plan.column_blocks.front();
    std::vector<StmtPtr> body;
    // Whole groups to the end of the part's grains, then the last rows.
    body.push_back(RowGroups(a, b, k, stride, scratch, slots, plan, rows.begin,
                             rows.grain_end, group));
    if (m % group != 0) {
      body.push_back(RowGroups(a, b, k, stride, scratch, slots, plan,
                               rows.grain_end, rows.end, m % group));
    }
    return body;
  }

  // Rows of the grouped product's scratch array start on cache lines, so
  // that no vector of partial sums straddles two.
  int64_t GroupScratchStride(int64_t n) const {
    const int64_t line = 64 / DTypeSize(root_.dtype());
    return (n + line - 1) / line * line;
  }

  // A new scratch array for the grouped product's partial sums.
  int GroupScratch(int64_t n, const ZeroSkipping& plan) {
    const int scratch =
        add_local_(root_.dtype(), plan.row_group * GroupScratchStride(n));
    kernel_.buffers_written.push_back(scratch);
    return scratch;
  }

  // Groups of `rows_per_group` rows starting at multiples of it from
  // `from`, up to `to`; row r of a group's sums starts at r·stride of the
  // scratch array.
  StmtPtr RowGroups(Node a, Node b, int64_t k, int64_t stride, int scratch,
                    const std::vector<Slot>& slots, const ZeroSkipping& plan,
                    ExprPtr from, ExprPtr to, int rows_per_group) {
    Var first_row = NewVar(kernel_);
    std::vector<StmtPtr> group;

    // Partial sums start at +0, in the slots' columns only. A slot that
    // overhangs the row's end still fits the row's stride.
    Var z = NewVar(kernel_);
    std::vector<StmtPtr> zero_row;
    for (const Slot& slot : slots) {
      zero_row.push_back(Store(scratch, Index(z) * stride + slot.column,
                               Constant(0, kind_, slot.lanes)));
    }
    group.push_back(For(z, 0, rows_per_group, 1, std::move(zero_row)));

    // For each p, the group's rows with a nonzero a[row, p] = X[p, row].
    Var p = NewVar(kernel_);
    Var r = NewVar(kernel_);
    ExprPtr row = Index(first_row) + Index(r);
    ExprPtr element = Value(a, Coordinates({row, Index(p)}), 1);
    std::vector<StmtPtr> visit;
    std::map<int, Var> broadcasts;
    for (const Slot& slot : slots) {
      ActiveLanes active(*this, slot.active);
      const ValueType type{kind_, slot.lanes};
      if (!broadcasts.contains(slot.lanes)) {
        broadcasts[slot.lanes] = NewVar(kernel_);
        visit.push_back(
            Assign(broadcasts[slot.lanes], Splat(element, slot.lanes)));
      }
      ExprPtr at = Index(r) * stride + slot.column;
      ExprPtr partial = Load(scratch, at, kind_, slot.lanes);
      ExprPtr b_value = Value(
          b, Coordinates({Index(p), IndexConstant(slot.column)}), slot.lanes);
      visit.push_back(
          Store(scratch, at,
                Binary(BinaryOp::kAdd, partial,
                       Binary(BinaryOp::kMul,
                              VarRef(broadcasts[slot.lanes], type), b_value)),
                slot.lanes > 1 ? slot.active : 0));
    }
    const NonzeroScan scan{.buffer = plan.a_buffer,
                           .index = Index(p) * m_of(a) + Index(first_row),
                           .extent = rows_per_group,
                           .stride = 1,
                           .rows = 1,
                           .row_stride = 0};
    group.push_back(For(p, 0, k, 1, {ForNonzero(r, scan, std::move(visit))}));

    // The epilogue on each row's sums.
    Var out_row = NewVar(kernel_);
    std::vector<StmtPtr> stores;
    for (const Slot& slot : slots) {
      ActiveLanes active(*this, slot.active);
      const Position index = Coordinates(
          {Index(first_row) + Index(out_row), IndexConstant(slot.column)});
      ExprPtr sums = Load(scratch, Index(out_row) * stride + slot.column, kind_,
                          slot.lanes);
      stores.push_back(StoreRoot(index, RootValue(index, slot.lanes, sums)));
    }
    group.push_back(For(out_row, 0, rows_per_group, 1, std::move(stores)));
    return For(first_row, std::move(from), std::move(to), rows_per_group,
               std::move(group));
  }

  // The rows of a matrix product's left operand.
  static int64_t m_of(Node a) { return a.shape()[0]; }

  absl::Status LowerReduction() {
    Node input = producer_.input(0);
    const Shape& shape = input.shape();
    const int axis = producer_.attributes().axis;
    const int64_t length = shape[axis];
    const bool axis_is_last = axis == static_cast<int>(shape.size()) - 1;
    const int lanes =
        !axis_is_last && VectorReadable(input) && VectorReadable(root_)
            ? VectorLanes()
            : 1;
    // Loops over every kept dimension; the reduced axis runs innermost,
    // inside the vector loop.
    std::vector<int64_t> kept;
    for (size_t d = 0; d < shape.size(); ++d) {
      if (static_cast<int>(d) != axis) kept.push_back(shape[d]);
    }
    kernel_.body = Nest(
        kept, lanes,
        [&](const std::vector<Var>& vars, int step_lanes) {
          return ReduceAt(input, axis, length, vars, step_lanes);
        },
        ChunksFor(NumElements(shape)));
    return absl::OkStatus();
  }

  std::vector<StmtPtr> ReduceAt(Node input, int axis, int64_t length,
                                const std::vector<Var>& kept, int lanes) {
    const ValueType type{kind_, lanes};
    auto input_at = [&](ExprPtr position) {
      std::vector<ExprPtr> coordinates = Indices(kept);
      coordinates.insert(coordinates.begin() + axis, std::move(position));
      return Value(input, Coordinates(std::move(coordinates)), lanes);
    };
    std::vector<StmtPtr> statements;
    Var accumulator = NewVar(kernel_);
    Var best_position = NewVar(kernel_);
    Var r = NewVar(kernel_);
    const OpKind op = producer_.op();
    statements.push_back(Assign(accumulator, input_at(IndexConstant(0))));
    if (op == OpKind::kArgmax) {
      statements.push_back(Assign(best_position, Constant(0, kind_, lanes)));
    }
    std::vector<StmtPtr> step;
    ExprPtr x = input_at(Index(r));
    ExprPtr acc = VarRef(accumulator, type);
    switch (op) {
      case OpKind::kSum:
      case OpKind::kMean:
        step.push_back(Assign(accumulator, Binary(BinaryOp::kAdd, acc, x)));
        break;
      case OpKind::kMax:
        step.push_back(Assign(
            accumulator, Select(Binary(BinaryOp::kGreater, x, acc), x, acc)));
        break;
      case OpKind::kArgmax: {
        // Ties keep the first position, as the reference does.
        Var value = NewVar(kernel_);
        Var greater = NewVar(kernel_);
        step.push_back(Assign(value, x));
        ExprPtr v = VarRef(value, type);
        step.push_back(Assign(greater, Binary(BinaryOp::kGreater, v, acc)));
        ExprPtr is_greater = VarRef(greater, {ScalarKind::kBool, lanes});
        step.push_back(Assign(accumulator, Select(is_greater, v, acc)));
        step.push_back(Assign(
            best_position,
            Select(is_greater, Splat(IndexToFloat(Index(r), kind_), lanes),
                   VarRef(best_position, type))));
        break;
      }
      default:
        KILN_UNREACHABLE("not a reduction");
    }
    if (length > 1) statements.push_back(For(r, 1, length, 1, std::move(step)));

    ExprPtr result = VarRef(accumulator, type);
    if (op == OpKind::kMean) {
      result = Binary(BinaryOp::kDiv, result,
                      Constant(static_cast<double>(length), kind_, lanes));
    } else if (op == OpKind::kArgmax) {
      result = VarRef(best_position, type);
    }
    // The result's coordinates: the kept ones, with a zero for the axis
    // when it is kept as a one.
    std::vector<ExprPtr> coordinates = Indices(kept);
    if (producer_.attributes().keepdims) {
      coordinates.insert(coordinates.begin() + axis, IndexConstant(0));
    }
    const Position index = Coordinates(std::move(coordinates));
    statements.push_back(StoreRoot(index, RootValue(index, lanes, result)));
    return statements;
  }

  // Statements that leave in `max` the largest element of the row of
  // `input` whose leading coordinates are `row`, in the reference's order.
  std::vector<StmtPtr> RowMax(Node input, const std::vector<ExprPtr>& row,
                              Var max) {
    const int64_t length = input.shape().back();
    const ValueType scalar{kind_, 1};
    std::vector<StmtPtr> statements;
    statements.push_back(Assign(max, Element(input, row, IndexConstant(0))));
    if (length > 1) {
      Var j = NewVar(kernel_);
      ExprPtr x = Element(input, row, Index(j));
      ExprPtr best = VarRef(max, scalar);
      statements.push_back(For(
          j, 1, length, 1,
          {Assign(max, Select(Binary(BinaryOp::kGreater, x, best), x, best))}));
    }
    return statements;
  }

  // Statements that leave in `sum` the row's Σ exp(x − max), in order.
  // With a `scratch` buffer (not -1), each exponential is also kept at
  // scratch[j]. A row that can be read as vectors takes its exponentials
  // a vector at a time into scratch, a local one when none is given, and
  // then sums them one by one from there: the exponentials are what costs,
  // and the sum must keep the reference's order.
  std::vector<StmtPtr> RowExpSum(Node input, const std::vector<ExprPtr>& row,
                                 Var max, Var sum, int scratch = -1) {
    const ValueType scalar{kind_, 1};
    const int64_t length = input.shape().back();
    Var j = NewVar(kernel_);
    const int lanes = VectorLanes();
    if (lanes > 1 && length > 1 && VectorReadable(input)) {
      if (scratch < 0) {
        scratch = add_local_(root_.dtype(), length);
        kernel_.buffers_written.push_back(scratch);
      }
      std::vector<StmtPtr> statements;
      for (const Slot& slot : RowSlots(length, lanes)) {
        ActiveLanes active(*this, slot.active);
        std::vector<ExprPtr> coordinates = row;
        coordinates.push_back(IndexConstant(slot.column));
        ExprPtr shifted = Binary(
            BinaryOp::kSub,
            Value(input, Coordinates(std::move(coordinates)), slot.lanes),
            Splat(VarRef(max, scalar), slot.lanes));
        statements.push_back(Store(scratch, IndexConstant(slot.column),
                                   Unary(UnaryOp::kExp, std::move(shifted)),
                                   slot.lanes > 1 ? slot.active : 0));
      }
      statements.push_back(Assign(sum, Constant(0, kind_)));
      statements.push_back(
          For(j, 0, length, 1,
              {Assign(sum, Binary(BinaryOp::kAdd, VarRef(sum, scalar),
                                  Load(scratch, Index(j), kind_, 1)))}));
      return statements;
    }
    Var e = NewVar(kernel_);
    std::vector<StmtPtr> step = {
        Assign(e, Unary(UnaryOp::kExp,
                        Binary(BinaryOp::kSub, Element(input, row, Index(j)),
                               VarRef(max, scalar)))),
        Assign(sum,
               Binary(BinaryOp::kAdd, VarRef(sum, scalar), VarRef(e, scalar)))};
    if (scratch >= 0)
      step.push_back(Store(scratch, Index(j), VarRef(e, scalar)));
    return {Assign(sum, Constant(0, kind_)),
            For(j, 0, length, 1, std::move(step))};
  }

  ExprPtr Element(Node node, std::vector<ExprPtr> row, ExprPtr column) {
    row.push_back(std::move(column));
    return Value(node, Coordinates(std::move(row)), 1);
  }

  // The leading dimensions of `shape`, whose coordinates pick a row.
  static std::vector<int64_t> RowExtents(const Shape& shape) {
    return std::vector<int64_t>(shape.begin(), shape.end() - 1);
  }

  absl::Status LowerRowwise() {
    Node input = producer_.input(0);
    const ValueType scalar{kind_, 1};
    // Softmax keeps the row's exponentials for its second pass, as the
    // reference does, rather than compute them twice.
    const bool softmax = producer_.op() == OpKind::kSoftmax;
    const int exponentials =
        softmax ? add_local_(root_.dtype(), input.shape().back()) : -1;
    if (softmax) kernel_.buffers_written.push_back(exponentials);
    kernel_.body = Nest(
        RowExtents(input.shape()), 1,
        [&](const std::vector<Var>& vars, int) {
          const std::vector<ExprPtr> row = Indices(vars);
          Var max = NewVar(kernel_);
          Var sum = NewVar(kernel_);
          std::vector<StmtPtr> statements = RowMax(input, row, max);
          for (StmtPtr& s : RowExpSum(input, row, max, sum, exponentials)) {
            statements.push_back(std::move(s));
          }
          Var j = NewVar(kernel_);
          ExprPtr shifted =
              Binary(BinaryOp::kSub, Element(input, row, Index(j)),
                     VarRef(max, scalar));
          ExprPtr value;
          if (softmax) {
            value =
                Binary(BinaryOp::kDiv, Load(exponentials, Index(j), kind_, 1),
                       VarRef(sum, scalar));
          } else {
            value = Binary(BinaryOp::kSub, shifted,
                           Unary(UnaryOp::kLog, VarRef(sum, scalar)));
          }
          std::vector<ExprPtr> coordinates = row;
          coordinates.push_back(Index(j));
          const Position index = Coordinates(std::move(coordinates));
          statements.push_back(
              For(j, 0, input.shape().back(), 1,
                  {StoreRoot(index, RootValue(index, 1, value))}));
          return statements;
        },
        ChunksFor(NumElements(input.shape())));
    return absl::OkStatus();
  }

  absl::Status LowerLoss() {
    Node a = producer_.input(0);
    Node b = producer_.input(1);
    const Shape& shape = a.shape();
    const ValueType scalar{kind_, 1};
    const int64_t rows = NumElements(shape) / shape.back();
    Var total = NewVar(kernel_);
    std::vector<StmtPtr> statements = {Assign(total, Constant(0, kind_))};
    auto add_to_total = [&](ExprPtr term) {
      return Assign(total, Binary(BinaryOp::kAdd, VarRef(total, scalar), term));
    };
    const OpKind op = producer_.op();
    int64_t divisor = rows;
    if (op == OpKind::kHalfMse || op == OpKind::kSigmoidCrossEntropy) {
      statements.push_back(
          Nest(shape, 1, [&](const std::vector<Var>& vars, int) {
            const Position index = Coordinates(Indices(vars));
            ExprPtr x = Value(a, index, 1);
            ExprPtr y = Value(b, index, 1);
            ExprPtr term;
            if (op == OpKind::kHalfMse) {
              ExprPtr difference = Binary(BinaryOp::kSub, x, y);
              term = Binary(BinaryOp::kMul, difference, difference);
            } else {
              // max(s, 0) − s·y + log(1 + e^−|s|), std::max's NaN handling
              // included.
              ExprPtr zero = Constant(0, kind_);
              ExprPtr positive_part =
                  Select(Binary(BinaryOp::kLess, x, zero), zero, x);
              term = Binary(
                  BinaryOp::kAdd,
                  Binary(BinaryOp::kSub, positive_part,
                         Binary(BinaryOp::kMul, x, y)),
                  Unary(UnaryOp::kLog1p,
                        Unary(UnaryOp::kExp,
                              Unary(UnaryOp::kNeg, Unary(UnaryOp::kAbs, x)))));
            }
            return std::vector<StmtPtr>{add_to_total(term)};
          }));
      if (op == OpKind::kHalfMse) divisor = 2 * rows;
    } else if (op == OpKind::kSoftmaxCrossEntropy) {
      statements.push_back(
          Nest(RowExtents(shape), 1, [&](const std::vector<Var>& vars, int) {
            const std::vector<ExprPtr> row = Indices(vars);
            Var max = NewVar(kernel_);
            Var sum = NewVar(kernel_);
            Var log_sum = NewVar(kernel_);
            std::vector<StmtPtr> row_statements = RowMax(a, row, max);
            for (StmtPtr& s : RowExpSum(a, row, max, sum)) {
              row_statements.push_back(std::move(s));
            }
            row_statements.push_back(
                Assign(log_sum, Unary(UnaryOp::kLog, VarRef(sum, scalar))));
            Var j = NewVar(kernel_);
            ExprPtr log_p =
                Binary(BinaryOp::kSub,
                       Binary(BinaryOp::kSub, Element(a, row, Index(j)),
                              VarRef(max, scalar)),
                       VarRef(log_sum, scalar));
            ExprPtr term =
                Unary(UnaryOp::kNeg,
                      Binary(BinaryOp::kMul, Element(b, row, Index(j)), log_p));
            row_statements.push_back(
                For(j, 0, shape.back(), 1, {add_to_total(term)}));
            return row_statements;
          }));
    } else if (op == OpKind::kAccuracy) {
      statements.push_back(
          Nest(RowExtents(shape), 1, [&](const std::vector<Var>& vars, int) {
            const std::vector<ExprPtr> row = Indices(vars);
            Var predicted = NewVar(kernel_);
            Var expected = NewVar(kernel_);
            std::vector<StmtPtr> row_statements = RowArgmax(a, row, predicted);
            for (StmtPtr& s : RowArgmax(b, row, expected)) {
              row_statements.push_back(std::move(s));
            }
            row_statements.push_back(add_to_total(
                ToFloat(Binary(BinaryOp::kEqual, VarRef(predicted, scalar),
                               VarRef(expected, scalar)),
                        kind_)));
            return row_statements;
          }));
    } else {
      return absl::UnimplementedError(
          absl::StrCat("the JIT has no loop for ", OpName(op)));
    }
    ExprPtr mean = Binary(BinaryOp::kDiv, VarRef(total, scalar),
                          Constant(static_cast<double>(divisor), kind_));
    const Position index = Coordinates({});
    statements.push_back(StoreRoot(index, RootValue(index, 1, mean)));
    kernel_.body = Block(std::move(statements));
    return absl::OkStatus();
  }

  // Statements that leave in `position` the first position of the row's
  // largest element, as a float.
  std::vector<StmtPtr> RowArgmax(Node input, const std::vector<ExprPtr>& row,
                                 Var position) {
    const ValueType scalar{kind_, 1};
    Var best = NewVar(kernel_);
    std::vector<StmtPtr> statements = {
        Assign(best, Element(input, row, IndexConstant(0))),
        Assign(position, Constant(0, kind_))};
    const int64_t length = input.shape().back();
    if (length > 1) {
      Var j = NewVar(kernel_);
      Var greater = NewVar(kernel_);
      ExprPtr x = Element(input, row, Index(j));
      ExprPtr is_greater = VarRef(greater, {ScalarKind::kBool, 1});
      statements.push_back(For(
          j, 1, length, 1,
          {Assign(greater, Binary(BinaryOp::kGreater, x, VarRef(best, scalar))),
           Assign(best, Select(is_greater, x, VarRef(best, scalar))),
           Assign(position, Select(is_greater, IndexToFloat(Index(j), kind_),
                                   VarRef(position, scalar)))}));
    }
    return statements;
  }

  const FusionPlan& plan_;
  const LoweringOptions& options_;
  std::function<int(Node)> buffer_of_;
  std::function<int(DType, int64_t)> add_local_;
  Kernel& kernel_;

  Node root_;
  Node producer_;
  int target_ = -1;
  ScalarKind kind_ = ScalarKind::kF32;
  // Snapshots and update copies: the buffer copied, or -1 to fill in the
  // root's constant.
  bool copying_ = false;
  int copy_source_ = -1;
  // The producer's value at the index being stored.
  ExprPtr producer_value_;
  HalvedSums halves_;
  // The parameter whose buffer the kernel writes, if any.
  Node updates_in_place_;
  // See ActiveLanes.
  int active_lanes_ = 0;
};

std::string KernelName(const KernelPlan& planned, int index) {
  std::string name;
  switch (planned.kind) {
    case KernelPlan::Kind::kSnapshot:
      name = "snapshot";
      break;
    case KernelPlan::Kind::kUpdateCopy:
      name = "update_copy";
      break;
    case KernelPlan::Kind::kCompute:
      name = std::string(OpName(planned.root.op()));
      if (planned.producer.ok() && !(planned.producer == planned.root)) {
        name = absl::StrCat(OpName(planned.producer.op()), "_", name);
      }
      if (planned.updates_in_place.ok()) absl::StrAppend(&name, "_update");
      break;
  }
  return absl::StrCat("k", index, "_", name);
}

}  // namespace

absl::StatusOr<LoweredProgram> LowerToLoops(Graph& graph,
                                            const std::vector<Node>& outputs,
                                            const FusionPlan& plan,
                                            const LoweringOptions& options) {
  LoweredProgram program;
  program.loops.vector_math_library = options.vector_math_library;
  absl::flat_hash_map<int, int> buffer_of_node;
  absl::flat_hash_map<int, int> snapshot_of_node;

  // A buffer of `elements` elements of `node`'s dtype, by default as many
  // as the node has.
  auto add_buffer = [&](Node node, BufferBinding binding, std::string name,
                        int64_t elements = -1) {
    program.loops.buffers.push_back(
        {node.dtype(), elements >= 0 ? elements : NumElements(node.shape()),
         std::move(name)});
    program.bindings.push_back(std::move(binding));
    return static_cast<int>(program.bindings.size()) - 1;
  };
  // Leaves get their buffers on first use.
  auto buffer_of = [&](Node node) -> int {
    auto found = buffer_of_node.find(node.id());
    if (found != buffer_of_node.end()) return found->second;
    BufferBinding binding;
    std::string name;
    if (node.op() == OpKind::kConstant) {
      binding.source = BufferBinding::Source::kConstant;
      binding.constant = node.attributes().value;
      name = absl::StrCat("constant %", node.id());
    } else {
      KILN_CHECK(node.op() == OpKind::kInput || node.op() == OpKind::kParameter)
          << "no buffer for %" << node.id() << " " << OpName(node.op());
      binding.source = BufferBinding::Source::kFeed;
      binding.feed_name = node.name();
      name = node.name();
    }
    const int buffer = add_buffer(node, std::move(binding), std::move(name));
    buffer_of_node[node.id()] = buffer;
    return buffer;
  };

  // Lowers `planned` (or one kernel of its halved sums) into a new kernel
  // that writes `target`.
  auto lower_kernel = [&](int plan_index, const KernelPlan& planned, int target,
                          std::string name,
                          const HalvedSums& halves) -> absl::Status {
    const int index = static_cast<int>(program.loops.kernels.size());
    Kernel kernel;
    kernel.name = std::move(name);
    kernel.buffers_written = {target};
    // An update copy reads the value's buffer, or its snapshot.
    auto kernel_buffer_of = [&](Node node) -> int {
      if (planned.kind == KernelPlan::Kind::kUpdateCopy &&
          node == planned.root) {
        auto snapshot = snapshot_of_node.find(node.id());
        if (snapshot != snapshot_of_node.end()) return snapshot->second;
      }
      return buffer_of(node);
    };
    auto add_local = [&](DType dtype, int64_t elements) {
      program.loops.buffers.push_back(
          {.dtype = dtype,
           .num_elements = elements,
           .name = absl::StrCat("scratch of k", index),
           .local = true});
      BufferBinding binding;
      binding.source = BufferBinding::Source::kLocal;
      binding.first_kernel = binding.last_kernel = index;
      program.bindings.push_back(std::move(binding));
      return static_cast<int>(program.bindings.size()) - 1;
    };
    KernelLowering lowering(plan, options, kernel_buffer_of, add_local, kernel);
    KILN_RETURN_IF_ERROR(lowering.Lower(planned, target, halves));
    for (int read : kernel.buffers_read) {
      BufferBinding& binding = program.bindings[read];
      binding.last_kernel = std::max(binding.last_kernel, index);
    }
    program.loops.kernels.push_back(std::move(kernel));
    program.plan_kernels.push_back(plan_index);
    return absl::OkStatus();
  };

  for (int k = 0; k < static_cast<int>(plan.kernels.size()); ++k) {
    const KernelPlan& planned = plan.kernels[k];
    Node root = planned.root;
    // The kernel that stores the root's value.
    const int index = static_cast<int>(program.loops.kernels.size());
    HalvedSums halves;
    if (Node product = HalvedProductOf(planned); product.ok()) {
      BufferBinding binding;
      binding.first_kernel = index;
      halves.partial_sums =
          add_buffer(product, std::move(binding),
                     absl::StrCat("halved sums of %", product.id(), " matmul"),
                     2 * NumElements(product.shape()));
      KILN_RETURN_IF_ERROR(
          lower_kernel(k, planned, halves.partial_sums,
                       absl::StrCat("k", index, "_matmul_halves"),
                       {.stage = HalvedSums::Stage::kPartialSums}));
      halves.stage = HalvedSums::Stage::kSumOfHalves;
    }
    const int root_kernel = static_cast<int>(program.loops.kernels.size());
    int target;
    if (planned.kind == KernelPlan::Kind::kSnapshot) {
      BufferBinding binding;
      binding.first_kernel = root_kernel;
      target = add_buffer(root, std::move(binding),
                          absl::StrCat("snapshot of ", root.name()));
      snapshot_of_node[root.id()] = target;
    } else if (planned.updates_in_place.ok()) {
      target = buffer_of(planned.updates_in_place);
    } else {
      BufferBinding binding;
      binding.first_kernel = root_kernel;
      target = add_buffer(root, std::move(binding),
                          absl::StrCat("%", root.id(), " ", OpName(root.op())));
      buffer_of_node[root.id()] = target;
    }
    KILN_RETURN_IF_ERROR(lower_kernel(
        k, planned, target, KernelName(planned, root_kernel), halves));
  }

  const int num_kernels = static_cast<int>(program.loops.kernels.size());
  for (const Node& output : outputs) {
    int buffer;
    if (IsBufferLeaf(output.op())) {
      buffer = buffer_of(output);
    } else {
      auto found = buffer_of_node.find(output.id());
      KILN_CHECK(found != buffer_of_node.end())
          << "output %" << output.id() << " has no buffer";
      buffer = found->second;
    }
    // Outputs stay alive to the end, where the executor copies them out.
    program.bindings[buffer].last_kernel = num_kernels;
    program.outputs.push_back({buffer, output.shape(), output.dtype()});
  }
  return program;
}

}  // namespace kiln::jit
