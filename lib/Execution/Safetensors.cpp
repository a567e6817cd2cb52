//===- Safetensors.cpp - Write weights as .safetensors ---------*- C++ -*-===//
//
// Part of the Hybrid project: an MLIR compiler for hybrid sequence models.
//
//===----------------------------------------------------------------------===//

#include "hybrid/Execution/Safetensors.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir::hybrid;

llvm::Error mlir::hybrid::writeSafetensors(
    llvm::StringRef path, llvm::ArrayRef<frontend::WeightInfo> info,
    llvm::ArrayRef<HostTensor> tensors) {
  llvm::json::Object header;
  uint64_t offset = 0;
  for (auto [w, t] : llvm::zip(info, tensors)) {
    uint64_t bytes = t.data.size() * 4;
    header[w.name] = llvm::json::Object{
        {"dtype", "F32"},
        {"shape", llvm::json::Array(w.shape)},
        {"data_offsets", llvm::json::Array{offset, offset + bytes}}};
    offset += bytes;
  }
  header["__metadata__"] = llvm::json::Object{{"format", "pt"}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(header));
  // Pad the header with spaces to 8 bytes, as the format recommends.
  while (text.size() % 8)
    text.push_back(' ');
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '%s': %s",
                                   path.str().c_str(), ec.message().c_str());
  uint64_t size = text.size();
  for (int i = 0; i < 8; ++i)
    out << static_cast<char>((size >> (8 * i)) & 0xff);
  out << text;
  for (const HostTensor &t : tensors)
    out.write(reinterpret_cast<const char *>(t.data.data()),
              t.data.size() * 4);
  return llvm::Error::success();
}
