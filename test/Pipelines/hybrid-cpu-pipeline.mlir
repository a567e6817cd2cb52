// The CPU pipeline takes hybrid IR on tensors to the LLVM dialect with
// OpenMP, and the result translates to LLVM IR.
// RUN: hybrid-opt %s --hybrid-export-functions --hybrid-cpu-pipeline | FileCheck %s
// RUN: hybrid-opt %s --hybrid-export-functions --hybrid-cpu-pipeline | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVMIR
// RUN: hybrid-opt %s --hybrid-export-functions --hybrid-cpu-pipeline="openmp=false" | FileCheck %s --check-prefix=SERIAL

// CHECK-LABEL: llvm.func @scan(
// CHECK: omp.parallel
// CHECK: omp.wsloop
// CHECK-NOT: hybrid.
// CHECK-NOT: scf.
// CHECK-NOT: vector.
// CHECK-NOT: memref.
// CHECK-LABEL: llvm.func @_mlir_ciface_scan(
// LLVMIR: define void @scan(
// LLVMIR: call void {{.*}}@__kmpc_fork_call
// LLVMIR: define void @_mlir_ciface_scan(
// SERIAL-NOT: omp.
func.func @scan(%x: tensor<?x?x20xf32>, %gx: tensor<?x?x20xf32>, %l: tensor<20xf32>, %s_init: tensor<?x20xf32>, %h_out: tensor<?x?x20xf32>)
    -> tensor<?x20xf32> {
  %h, %s = hybrid.rg_lru x(%x : tensor<?x?x20xf32>) gate_x(%gx : tensor<?x?x20xf32>)
      gate_a(%gx : tensor<?x?x20xf32>) a_param(%l : tensor<20xf32>) init(%s_init : tensor<?x20xf32>) outs(%h_out : tensor<?x?x20xf32>)
      -> tensor<?x?x20xf32>, tensor<?x20xf32>
  return %s : tensor<?x20xf32>
}
