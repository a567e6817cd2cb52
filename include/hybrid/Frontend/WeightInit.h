//===- WeightInit.h - Seeded random model weights ---------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_FRONTEND_WEIGHTINIT_H
#define HYBRID_FRONTEND_WEIGHTINIT_H

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Support/HostTensor.h"

#include <cstdint>
#include <vector>

namespace mlir::hybrid::frontend {

/// Random weights for `weights`, reproducible from `seed`, with the
/// initialisation each block's reference implementation uses (Mamba's
/// S4D-real A_log and dt bias, RG-LRU's decay range, RWKV's decay range,
/// unit-gain norms, linear layers uniform in ±1/sqrt(fan_in)), so that
/// activations stay in a realistic range through deep stacks.
std::vector<HostTensor> randomWeights(const std::vector<WeightInfo> &weights,
                                      uint64_t seed);

/// A random input [batch, seq, embed] in [-1, 1].
HostTensor randomInput(int64_t batch, int64_t seq, int64_t embed,
                       uint64_t seed);

} // namespace mlir::hybrid::frontend

#endif // HYBRID_FRONTEND_WEIGHTINIT_H
