"""Minimal safetensors reader/writer written from the format description (no `safetensors` package here).

Format: 8-byte little-endian header length N, then N bytes of JSON
{name: {"dtype": "F32"|"BF16"|..., "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}},
then the raw little-endian tensor bytes, offsets relative to the end of the header.
bf16 has no numpy dtype: it is carried as uint16 bit patterns and converted with round-to-nearest-even.
"""
import json
import os
import struct

import numpy as np

_NP_OF = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "F16": np.float16}


def f32_to_bf16_bits(x):
    """Round float32 values to bfloat16 (nearest, ties to even); returns uint16 bit patterns."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    return ((bits + rounding) >> 16).astype(np.uint16)


def bf16_bits_to_f64(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)


class Stored:
    """A tensor as stored: dtype name plus a numpy array (uint16 bits for BF16)."""

    def __init__(self, dtype, array):
        self.dtype = dtype
        self.array = array

    def f64(self):
        if self.dtype == "BF16":
            return bf16_bits_to_f64(self.array)
        return self.array.astype(np.float64)


def as_stored(value, dtype):
    """float64/float32 array -> Stored in `dtype` ("F32" or "BF16")."""
    if dtype == "BF16":
        return Stored("BF16", f32_to_bf16_bits(np.asarray(value, dtype=np.float32)))
    if dtype == "F32":
        return Stored("F32", np.asarray(value, dtype=np.float32))
    if dtype == "I32":
        return Stored("I32", np.asarray(value, dtype=np.int32))
    raise ValueError(dtype)


def write(path, tensors, metadata=None):
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        stored = tensors[name]
        raw = np.ascontiguousarray(stored.array).astype(stored.array.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": stored.dtype, "shape": list(stored.array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


def read(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = body[begin:end]
        if info["dtype"] == "BF16":
            arr = np.frombuffer(raw, dtype="<u2").reshape(info["shape"])
        else:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP_OF[info["dtype"]]).newbyteorder("<")).reshape(info["shape"])
        out[name] = Stored(info["dtype"], arr)
    return out
