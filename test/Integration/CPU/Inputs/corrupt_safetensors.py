"""Writes broken variants of a safetensors file for the runtime's error tests."""
import json
import os
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
body = data[8 + n:]


def write(name, hdr, payload):
    text = json.dumps(hdr).encode()
    with open(os.path.join(out, name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + payload)


first = "layers.0.norm.weight"
missing = dict(header)
del missing[first]
write("missing.safetensors", missing, body)

shape = json.loads(json.dumps(header))
shape[first]["shape"] = [65]
write("shape.safetensors", shape, body)

dtype = json.loads(json.dumps(header))
dtype[first]["dtype"] = "F16"
write("dtype.safetensors", dtype, body)

write("truncated.safetensors", header, body[: len(body) // 2])

with open(os.path.join(out, "header.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", 1 << 20) + b"{}")
