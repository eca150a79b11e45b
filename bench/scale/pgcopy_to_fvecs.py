#!/usr/bin/env python3
"""pgcopy_to_fvecs.py OUT.fvecs OUT_LABELS.i32 < COPY BINARY of one vector column

Converts `COPY (SELECT embedding FROM t) TO STDOUT (FORMAT binary)` (nmvec's
vector send form: int16 dims, int16 unused, dims float4, big-endian) into the
.fvecs file bench/ann reads, and a labels file of zeros (the ann tools read
one label per vector; the scale runs have no label filters)."""
import array
import struct
import sys

out, labels_out = sys.argv[1], sys.argv[2]
inp = sys.stdin.buffer
sig = inp.read(11)
if sig != b"PGCOPY\n\xff\r\n\x00":
    sys.exit("pgcopy_to_fvecs: not a COPY BINARY stream")
_flags, ext = struct.unpack("!ii", inp.read(8))
inp.read(ext)
n = 0
with open(out, "wb") as f:
    while True:
        (fields,) = struct.unpack("!h", inp.read(2))
        if fields == -1:
            break
        if fields != 1:
            sys.exit("pgcopy_to_fvecs: expected one column")
        (length,) = struct.unpack("!i", inp.read(4))
        if length < 0:
            sys.exit("pgcopy_to_fvecs: NULL vector")
        body = inp.read(length)
        dims = struct.unpack("!h", body[:2])[0]
        xs = array.array("f")
        xs.frombytes(body[4:4 + 4 * dims])
        if sys.byteorder == "little":
            xs.byteswap()
        f.write(struct.pack("<i", dims))
        xs.tofile(f)
        n += 1
with open(labels_out, "wb") as f:
    array.array("i", [0] * n).tofile(f)
print(f"pgcopy_to_fvecs: {n} vectors", file=sys.stderr)
