//===- PipelineVariant.h - Pipeline options for numerical tests -*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//
//
// The numerical tests compile with the CPU pipeline's options taken from
// the environment variable HYBRID_TEST_PIPELINE (the pipeline's textual
// options, e.g. "tile=false fuse=false" or "min-tasks=1000 chunk-size=5"),
// so one test binary checks every variant of the hybrid-level stages
// against the same reference (test/Unit/CMakeLists.txt registers them).
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_TEST_UNIT_PIPELINEVARIANT_H
#define HYBRID_TEST_UNIT_PIPELINEVARIANT_H

#include "hybrid/Pipelines/Pipelines.h"

#include <cstdlib>
#include <memory>

namespace mlir::hybrid::test {

/// The pipeline options of this run (defaults without HYBRID_TEST_PIPELINE;
/// null when the variable does not parse).
inline std::unique_ptr<CPUPipelineOptions> pipelineVariant() {
  const char *text = std::getenv("HYBRID_TEST_PIPELINE");
  return CPUPipelineOptions::createFromString(text ? text : "");
}

} // namespace mlir::hybrid::test

#endif // HYBRID_TEST_UNIT_PIPELINEVARIANT_H
