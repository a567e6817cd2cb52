//===- HybridEnums.td - Hybrid enums and enum attributes ---*- tablegen -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#ifndef HYBRID_DIALECT_HYBRID_IR_HYBRIDENUMS_TD
#define HYBRID_DIALECT_HYBRID_IR_HYBRIDENUMS_TD

include "hybrid/Dialect/Hybrid/IR/HybridDialect.td"
include "mlir/IR/EnumAttr.td"

def Hybrid_WkvVariant : I32EnumAttr<"WkvVariant", "RWKV time-mix recurrence", [
    I32EnumAttrCase<"rwkv6", 0>,
    I32EnumAttrCase<"rwkv7", 1>
  ]> {
  let cppNamespace = "::mlir::hybrid";
  let genSpecializedAttr = 0;
}
def Hybrid_WkvVariantAttr
    : EnumAttr<Hybrid_Dialect, Hybrid_WkvVariant, "wkv_variant">;

def Hybrid_Activation : I32EnumAttr<"Activation", "fused activation", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"silu", 1>
  ]> {
  let cppNamespace = "::mlir::hybrid";
  let genSpecializedAttr = 0;
}
def Hybrid_ActivationAttr
    : EnumAttr<Hybrid_Dialect, Hybrid_Activation, "activation">;

#endif // HYBRID_DIALECT_HYBRID_IR_HYBRIDENUMS_TD
