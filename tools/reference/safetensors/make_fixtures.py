#!/usr/bin/python3
"""Independent reference writer for safetensors fixtures (numpy only; no difflens code).

Writes small files straight from the format spec (https://github.com/huggingface/safetensors, README "Format"):
8-byte little-endian u64 N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]},
"__metadata__": {str: str}}, then the data section; offsets are relative to the data section.

Layout follows what the reference library's `serialize` does (safetensors/src/tensor.rs): tensors sorted by
descending dtype rank (its Dtype enum is declared in increasing alignment order), then by name; compact JSON with
"__metadata__" first; the header padded with spaces to a multiple of 8. The Rust library writes metadata keys in
hash-map order (random); we sort them (difflens's documented choice), so byte-for-byte comparisons hold for any
number of keys here, and match the reference library itself when a file has at most one key.

Before writing anything, the writer is checked against three byte vectors from the reference library's own unit
tests (test_serialization, test_serialization_forced_alignement, test_empty). If the `safetensors` Python package
is importable (Debian bookworm has no python3-safetensors; a machine with pip may), every fixture is additionally
loaded and re-serialized with it.

Run:  /usr/bin/python3 tools/reference/safetensors/make_fixtures.py
Out:  packages/tensor/test/fixtures/safetensors/{*.safetensors, sharded/, expected.json}
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                   "packages", "tensor", "test", "fixtures", "safetensors")

# dtype -> (rank in the reference Dtype enum, bits per element)
DTYPES = {
    "BOOL": (0, 8), "F4": (1, 4), "F6_E2M3": (2, 6), "F6_E3M2": (3, 6), "U8": (4, 8), "I8": (5, 8),
    "F8_E5M2": (6, 8), "F8_E4M3": (7, 8), "F8_E8M0": (8, 8), "F8_E4M3FNUZ": (9, 8), "F8_E5M2FNUZ": (10, 8),
    "I16": (11, 16), "U16": (12, 16), "F16": (13, 16), "BF16": (14, 16), "I32": (15, 32), "U32": (16, 32),
    "F32": (17, 32), "C64": (18, 64), "F64": (19, 64), "I64": (20, 64), "U64": (21, 64),
}


def utf8_key(s):
    return s.encode("utf-8")


def serialize(tensors, metadata=None, pad=True):
    """tensors: dict name -> (dtype_name, shape list, raw little-endian bytes). Returns the file bytes."""
    items = []
    for name, (dtype, shape, raw) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        assert n * DTYPES[dtype][1] == 8 * len(raw), (name, dtype, shape, len(raw))
        items.append((name, dtype, shape, raw))
    items.sort(key=lambda it: (-DTYPES[it[1]][0], utf8_key(it[0])))
    parts = []
    if metadata is not None:
        meta = ",".join(json.dumps(k, ensure_ascii=False) + ":" + json.dumps(metadata[k], ensure_ascii=False)
                        for k in sorted(metadata, key=utf8_key))
        parts.append('"__metadata__":{' + meta + "}")
    offset = 0
    for name, dtype, shape, raw in items:
        begin, end = offset, offset + len(raw)
        offset = end
        parts.append(json.dumps(name, ensure_ascii=False) + ':{"dtype":"' + dtype + '","shape":['
                     + ",".join(str(d) for d in shape) + '],"data_offsets":[' + str(begin) + "," + str(end) + "]}")
    header = ("{" + ",".join(parts) + "}").encode("utf-8")
    if pad:
        header += b" " * ((8 - len(header) % 8) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(raw for _, _, _, raw in items)


def check_against_reference_library_vectors():
    # Expected bytes copied from the unit tests of huggingface/safetensors (safetensors/src/tensor.rs).
    data = np.arange(6, dtype="<f4").tobytes()
    got = serialize({"attn.0": ("F32", [1, 2, 3], data)})
    want = bytes([64, 0, 0, 0, 0, 0, 0, 0]) + b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}' + data
    assert got == want, "test_serialization vector"
    got = serialize({"attn0": ("F32", [1, 1, 2, 3], data)})
    want = (bytes([72, 0, 0, 0, 0, 0, 0, 0]) + b'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'
            + b" " * 7 + data)
    assert got == want, "test_serialization_forced_alignement vector"
    assert serialize({}) == bytes([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]), "test_empty vector"
    want = bytes([40, 0, 0, 0, 0, 0, 0, 0]) + b'{"__metadata__":{"framework":"pt"}}' + b" " * 5
    assert serialize({}, {"framework": "pt"}) == want, "test_empty with metadata vector"


def f32_to_bf16_bits(x):
    """Round-to-nearest-even f32 -> bf16, NaN kept quiet; x: float32 array. Returns uint16 array."""
    bits = x.astype("<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(x)
    rounded[nan] = ((bits[nan] >> 16) | 0x40) & 0xFFFF
    return rounded.astype("<u2")


def entry(dtype, shape, arr_bytes, expected):
    return (dtype, list(shape), arr_bytes), dict(expected, dtype=dtype, shape=list(shape))


def build():
    rng = np.random.default_rng(20240517)
    specials = np.array([0.0, -0.0, 1.0, -1.5, 65504.0, 1e-8, 3.0e38, np.inf, -np.inf, np.nan], dtype=np.float32)
    f32 = np.concatenate([specials, (rng.standard_normal(14) * 3).astype(np.float32)]).reshape(2, 3, 4)
    with np.errstate(over="ignore"):  # 3e38 -> inf in f16 on purpose
        f16_specials = specials.astype(np.float16)
    f16 = np.concatenate([f16_specials, np.array([6e-8, -6.1e-5], dtype=np.float16),
                          rng.standard_normal(3).astype(np.float16)]).reshape(3, 5)
    bf16_src = np.concatenate([specials, np.array([1.00390625, 1.01171875, 9.2e-41], dtype=np.float32),
                               rng.standard_normal(3).astype(np.float32)])
    bf16 = f32_to_bf16_bits(bf16_src).reshape(4, 4)
    i32 = np.array([0, 1, -1, 2**31 - 1, -2**31, 123456, -98765], dtype="<i4")
    i64 = np.array([[0, -1, 2**53 + 1], [2**63 - 1, -2**63, 42]], dtype="<i8")
    u8 = np.arange(0, 256, 37, dtype=np.uint8)
    boolean = np.array([[True, False, True], [False, False, True]])
    scalar = np.array(2.5, dtype="<f4")
    empty = np.zeros((0, 3), dtype="<f4")

    def bits(a, view):
        return [int(v) for v in np.asarray(a).reshape(-1).view(view)]

    main = {}
    expected = {}
    for name, dtype, arr, exp in [
        ("layers.0.weight", "F32", f32, {"bits": bits(f32.astype("<f4"), "<u4")}),
        ("layers.0.half", "F16", f16, {"bits": bits(f16.astype("<f2"), "<u2")}),
        ("layers.0.brain", "BF16", bf16, {"bits": bits(bf16, "<u2")}),
        ("ids.i32", "I32", i32, {"values": [int(v) for v in i32]}),
        ("ids.i64", "I64", i64, {"values": [str(int(v)) for v in i64.reshape(-1)]}),
        ("bytes.u8", "U8", u8, {"values": [int(v) for v in u8]}),
        ("mask", "BOOL", boolean, {"values": [int(v) for v in boolean.reshape(-1)]}),
        ("scale", "F32", scalar, {"bits": bits(scalar.reshape(1), "<u4")}),
        ("empty", "F32", empty, {"bits": []}),
    ]:
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        main[name], expected[name] = entry(dtype, arr.shape, raw, exp)
    files = {}
    files["all-dtypes.safetensors"] = (main, {"format": "pt"}, True)

    # Several metadata keys (sorted by us), escapes and non-ASCII in names and values.
    meta = {"format": "pt", "z_last": "tab\there \"quoted\" \\ back", "a_first": "ünïcödé ✓ 😀", "ctrl": "\u0001\u001f"}
    odd = {
        "名前.weight": ("F32", [2], np.array([1.0, -2.0], dtype="<f4").tobytes()),
        "with \"quote\"": ("I32", [1], np.array([7], dtype="<i4").tobytes()),
        "emoji😀": ("U8", [3], bytes([1, 2, 3])),
        "Zeta": ("U8", [1], bytes([9])),
        "\u00e9": ("U8", [1], bytes([8])),
    }
    files["metadata-and-names.safetensors"] = (odd, meta, True)

    # Dtypes the reader recognises but cannot hold in a Tensor.
    unsupported = {
        "f64": ("F64", [3], np.array([1.0, -0.5, 1e300], dtype="<f8").tobytes()),
        "i8": ("I8", [4], np.array([-128, -1, 0, 127], dtype="<i1").tobytes()),
        "i16": ("I16", [2], np.array([-32768, 32767], dtype="<i2").tobytes()),
        "u16": ("U16", [2], np.array([0, 65535], dtype="<u2").tobytes()),
        "u32": ("U32", [2], np.array([0, 2**32 - 1], dtype="<u4").tobytes()),
        "u64": ("U64", [1], np.array([2**64 - 1], dtype="<u8").tobytes()),
        "f8_e4m3": ("F8_E4M3", [4], bytes([0x38, 0xB8, 0x7E, 0x00])),
        "f8_e5m2": ("F8_E5M2", [2], bytes([0x3C, 0xBC])),
        "ok.f32": ("F32", [2], np.array([0.25, 4.0], dtype="<f4").tobytes()),
    }
    files["unsupported-dtypes.safetensors"] = (unsupported, None, True)

    # No header padding (older writers): the F32 tensor lands at an absolute offset that is not a multiple of 4.
    unpadded = {"w": ("F32", [3], np.array([1.5, -2.25, 3.0], dtype="<f4").tobytes()),
                "b": ("U8", [1], bytes([5]))}
    files["unpadded.safetensors"] = (unpadded, None, False)

    # Two shards + index, greedy in insertion order with max_shard_bytes = 96.
    shard_tensors = [
        ("model.embed_tokens.weight", "BF16", [4, 6], f32_to_bf16_bits(rng.standard_normal(24).astype(np.float32))),
        ("model.layers.0.mlp.up_proj.weight", "F32", [2, 4], rng.standard_normal(8).astype("<f4")),
        ("model.layers.0.input_layernorm.weight", "F32", [4], np.ones(4, dtype="<f4")),
        ("model.nörm.weight", "F32", [4], np.full(4, 0.5, dtype="<f4")),  # non-ASCII: the index escapes it (ensure_ascii)
        ("lm_head.weight", "F16", [6, 4], rng.standard_normal(24).astype("<f2")),
    ]
    max_shard = 96
    shards, cur, cur_bytes, total = [], [], 0, 0
    for name, dtype, shape, arr in shard_tensors:
        raw = arr.tobytes()
        if cur and cur_bytes + len(raw) > max_shard:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append((name, dtype, shape, raw))
        cur_bytes += len(raw)
        total += len(raw)
    shards.append(cur)
    n = len(shards)
    weight_map = {}
    sharded_expected = {}
    for i, shard in enumerate(shards):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, n)
        files["sharded/" + fname] = ({nm: (dt, sh, raw) for nm, dt, sh, raw in shard}, {"format": "pt"}, True)
        for nm, dt, sh, raw in shard:
            weight_map[nm] = fname
            view = {"BF16": "<u2", "F16": "<u2", "F32": "<u4"}[dt]
            sharded_expected[nm] = {"dtype": dt, "shape": sh, "shard": fname,
                                    "bits": [int(v) for v in np.frombuffer(raw, dtype=view)]}
    index = json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2, sort_keys=True) + "\n"
    return files, expected, index, sharded_expected, {"max_shard_bytes": max_shard, "order": [t[0] for t in shard_tensors],
                                                     "total_size": total}


def main():
    check_against_reference_library_vectors()
    files, expected, index, sharded_expected, shard_plan = build()
    os.makedirs(os.path.join(OUT, "sharded"), exist_ok=True)
    manifest = {}
    for rel, (tensors, metadata, pad) in files.items():
        blob = serialize(tensors, metadata, pad)
        with open(os.path.join(OUT, rel), "wb") as f:
            f.write(blob)
        manifest[rel] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "metadata": metadata,
                         "padded": pad,
                         "tensors": {nm: {"dtype": dt, "shape": sh, "hex": raw.hex()} for nm, (dt, sh, raw) in tensors.items()}}
    with open(os.path.join(OUT, "sharded", "model.safetensors.index.json"), "w") as f:
        f.write(index)
    out = {
        "generator": "tools/reference/safetensors/make_fixtures.py (numpy %s, spec-only writer)" % np.__version__,
        "files": manifest,
        "all_dtypes_values": expected,
        "sharded": {"tensors": sharded_expected, "plan": shard_plan},
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    try:
        import safetensors.numpy as stnp  # noqa: F401
    except ImportError:
        print("python safetensors not installed: fixtures written from the spec only", file=sys.stderr)
        return
    cross_check_with_library(files)


def cross_check_with_library(files):
    """Loads every fixture with the reference library and compares names, metadata and the numpy-readable tensors."""
    from safetensors import safe_open
    numpy_dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I8": "<i1", "I16": "<i2", "I32": "<i4", "I64": "<i8",
                    "U8": "<u1", "U16": "<u2", "U32": "<u4", "U64": "<u8", "BOOL": "?"}
    for rel, (tensors, metadata, _pad) in files.items():
        with safe_open(os.path.join(OUT, rel), framework="np") as f:
            assert sorted(f.keys()) == sorted(tensors), rel
            assert (f.metadata() or None) == metadata, rel
            for name, (dtype, shape, raw) in tensors.items():
                if dtype in numpy_dtypes:
                    got = f.get_tensor(name)
                    assert list(got.shape) == shape and got.tobytes() == raw, (rel, name)
        print("reference library agrees:", rel)


if __name__ == "__main__":
    main()
