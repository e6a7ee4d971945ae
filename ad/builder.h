// The builder API: functions and operators that add ops to a graph.
//
// These read like the math they build. Every function checks its inputs when
// it is called (see the error contract in ad/graph.h) and takes the caller's
// source location as a defaulted last argument, so error messages point at the
// user's line, not at Kiln's.
//
//   Node h = Sigmoid(MatMul(x, w1) + b1);        // b1 broadcasts over rows
//   Node loss = SoftmaxCrossEntropy(MatMul(h, w2) + b2, y);
//
// Binary elementwise ops broadcast under NumPy's rules. The broadcast is made
// explicit in the graph as Broadcast nodes, so later stages see operands of
// equal shape. A double mixed with a Node becomes a constant of the Node's
// dtype and shape.

#ifndef KILN_AD_BUILDER_H_
#define KILN_AD_BUILDER_H_

#include <source_location>
#include <vector>

#include "ad/graph.h"

namespace kiln {

using Location = std::source_location;

// ---- Elementwise arithmetic ----
Node Add(Node a, Node b, Location where = Location::current());
Node Sub(Node a, Node b, Location where = Location::current());
Node Mul(Node a, Node b, Location where = Location::current());
Node Div(Node a, Node b, Location where = Location::current());
Node Neg(Node x, Location where = Location::current());
Node Exp(Node x, Location where = Location::current());
Node Log(Node x, Location where = Location::current());
Node Square(Node x, Location where = Location::current());

// ---- Activations ----
Node Sigmoid(Node x, Location where = Location::current());
Node Tanh(Node x, Location where = Location::current());
Node Relu(Node x, Location where = Location::current());
// x for x > 0, gamma·x otherwise.
Node LeakyRelu(Node x, double gamma = 0.01,
               Location where = Location::current());
// Along the last axis, after subtracting each row's maximum.
Node Softmax(Node x, Location where = Location::current());
Node LogSoftmax(Node x, Location where = Location::current());

// ---- Comparisons and selection: 1 where true, 0 where false ----
Node Less(Node a, Node b, Location where = Location::current());
Node LessEqual(Node a, Node b, Location where = Location::current());
Node Greater(Node a, Node b, Location where = Location::current());
Node GreaterEqual(Node a, Node b, Location where = Location::current());
Node Equal(Node a, Node b, Location where = Location::current());
Node NotEqual(Node a, Node b, Location where = Location::current());
// `a` where `condition` is non-zero, else `b`; all three broadcast.
Node Select(Node condition, Node a, Node b,
            Location where = Location::current());

// ---- Layout ----
// [m,k] times [k,n].
Node MatMul(Node a, Node b, Location where = Location::current());
// Reverses the axes; for a matrix, the usual transpose.
Node Transpose(Node x, Location where = Location::current());
// Result axis i is input axis permutation[i].
Node Transpose(Node x, std::vector<int> permutation,
               Location where = Location::current());
Node Reshape(Node x, Shape shape, Location where = Location::current());
Node BroadcastTo(Node x, Shape shape, Location where = Location::current());

// ---- Reductions along one axis; negative axes count from the end ----
Node Sum(Node x, int axis, bool keepdims = false,
         Location where = Location::current());
Node Mean(Node x, int axis, bool keepdims = false,
          Location where = Location::current());
Node Max(Node x, int axis, bool keepdims = false,
         Location where = Location::current());
// The index of the first largest element, as a value of x's dtype.
Node Argmax(Node x, int axis = -1, bool keepdims = false,
            Location where = Location::current());
// The sum of every element, as a scalar.
Node SumAll(Node x, Location where = Location::current());

// ---- Losses: summed over the last axis, averaged over rows ----
// ½·mean squared error: 1/(2N) Σ (prediction − target)².
Node HalfMse(Node prediction, Node target,
             Location where = Location::current());
// Binary cross-entropy of sigmoid(logits) against targets in [0, 1].
Node SigmoidCrossEntropy(Node logits, Node targets,
                         Location where = Location::current());
// Cross-entropy of softmax(logits) against targets whose rows each sum to 1,
// such as one-hot labels. The gradient (softmax(logits) − targets)/N relies
// on that.
Node SoftmaxCrossEntropy(Node logits, Node targets,
                         Location where = Location::current());

// ---- Helpers ----
// Class indices (stored as values of the dtype) to one-hot rows.
Node OneHot(Node labels, int64_t num_classes,
            Location where = Location::current());
// The fraction of rows whose largest score sits where the one-hot label's 1
// is.
Node Accuracy(Node scores, Node one_hot_labels,
              Location where = Location::current());

// A constant of x's dtype and shape holding `value`.
Node FillLike(Node x, double value, Location where = Location::current());

// ---- Operators ----
//
// Operators cannot take a defaulted location argument, so the left operand
// captures it: it converts implicitly to one of these wrappers, and a
// converting constructor's default argument is evaluated at the caller.
struct LocatedNode {
  LocatedNode(Node node, Location where = Location::current())
      : node(node), where(where) {}
  Node node;
  Location where;
};
struct LocatedScalar {
  LocatedScalar(double value, Location where = Location::current())
      : value(value), where(where) {}
  double value;
  Location where;
};

Node operator+(LocatedNode a, Node b);
Node operator-(LocatedNode a, Node b);
Node operator*(LocatedNode a, Node b);
Node operator/(LocatedNode a, Node b);
Node operator-(LocatedNode x);

Node operator+(LocatedNode a, double b);
Node operator-(LocatedNode a, double b);
Node operator*(LocatedNode a, double b);
Node operator/(LocatedNode a, double b);

Node operator+(LocatedScalar a, Node b);
Node operator-(LocatedScalar a, Node b);
Node operator*(LocatedScalar a, Node b);
Node operator/(LocatedScalar a, Node b);

}  // namespace kiln

#endif  // KILN_AD_BUILDER_H_
