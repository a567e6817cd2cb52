"""Wraps raw little-endian f32 data in a .npy file of the given shape."""
import struct
import sys

src, dst = sys.argv[1], sys.argv[2]
shape = tuple(int(d) for d in sys.argv[3:])
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
    ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
pad = 64 - (10 + len(header) + 1) % 64
header = header + " " * pad + "\n"
with open(dst, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
    f.write(header.encode())
    f.write(open(src, "rb").read())
