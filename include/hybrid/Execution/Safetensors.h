//===- Safetensors.h - Write weights as .safetensors ------------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_EXECUTION_SAFETENSORS_H
#define HYBRID_EXECUTION_SAFETENSORS_H

#include "hybrid/Frontend/ModelBuilder.h"
#include "hybrid/Support/HostTensor.h"

#include "llvm/Support/Error.h"

namespace mlir::hybrid {

/// Writes F32 tensors in the safetensors format (8-byte little-endian header
/// size, JSON header of {name: {dtype, shape, data_offsets}}, data), in the
/// order given. The runtime's hybrid_model_create_from_file reads it.
llvm::Error writeSafetensors(llvm::StringRef path,
                             llvm::ArrayRef<frontend::WeightInfo> info,
                             llvm::ArrayRef<HostTensor> tensors);

} // namespace mlir::hybrid

#endif // HYBRID_EXECUTION_SAFETENSORS_H
