#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Each seed is a small input a fuzz target starts from: well-formed ones, so
that mutations begin deep inside the parser, and malformed ones, one per
defect the parser must refuse, which the normal suite replays under the
sanitizers. The files are committed; run this script again only after
changing it, and commit what it writes:

    /usr/bin/python3 fuzz/make_seed_corpus.py

Input formats are those the targets' LLVMFuzzerTestOneInput decode; see the
header comment of each fuzz/*_fuzzer.cc.
"""

import gzip
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- IDX (fuzz/idx_fuzzer.cc): a mode byte, then the bytes ----
RAW, COMPRESS, AS_GZ = 0, 1, 2


def idx(dims, data, type_code=0x08, rank=None):
    """An IDX file: magic, big-endian dimensions, data."""
    rank = len(dims) if rank is None else rank
    header = bytes([0, 0, type_code, rank])
    return header + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def gzip_member(data):
    # mtime=0 keeps the output the same from run to run.
    return gzip.compress(data, mtime=0)


def idx_seeds():
    images = idx([2, 3, 3], range(18))
    labels = idx([4], [7, 2, 1, 0])
    seeds = {
        # Well-formed, by every path.
        "valid_labels_raw": bytes([RAW]) + labels,
        "valid_images_raw": bytes([RAW]) + images,
        "valid_images_compressed": bytes([COMPRESS]) + images,
        "valid_images_gz": bytes([AS_GZ]) + gzip_member(images),
        "valid_rank4_raw": bytes([RAW]) + idx([1, 2, 1, 2], [9, 8, 7, 6]),
        "valid_two_gzip_members": bytes([AS_GZ])
        + gzip_member(images[:10])
        + gzip_member(images[10:]),
        # Malformed headers.
        "empty": bytes([RAW]),
        "magic_nonzero": bytes([RAW]) + b"\x01\x00" + labels[2:],
        "type_int32": bytes([RAW]) + idx([4], [0] * 16, type_code=0x0C),
        "type_unknown": bytes([RAW]) + idx([4], [0] * 4, type_code=0x42),
        "rank_zero": bytes([RAW]) + idx([], [], rank=0),
        "rank_five": bytes([RAW]) + idx([1, 1, 1, 1, 1], [3]),
        "dimension_zero": bytes([RAW]) + idx([3, 0], []),
        "truncated_magic": bytes([RAW]) + b"\x00\x00\x08",
        "truncated_dimensions": bytes([RAW]) + idx([2, 3], [])[:9],
        "dimensions_overflow": bytes([RAW])
        + idx([0xFFFFFFFF] * 4, []),
        "declares_over_a_gibibyte": bytes([RAW]) + idx([0x10000, 0x10001], []),
        "declares_a_gibibyte_holds_little": bytes([COMPRESS])
        + idx([0x8000, 0x8000], [1, 2, 3]),
        # Malformed data sections.
        "truncated_data": bytes([RAW]) + images[:-5],
        "trailing_data": bytes([RAW]) + labels + b"\x00\x01",
        "compressed_trailing_data": bytes([COMPRESS]) + labels + b"x" * 40,
        # Malformed gzip.
        "gz_name_raw_bytes": bytes([AS_GZ]) + labels,
        "gzip_truncated": bytes([AS_GZ]) + gzip_member(images)[:-9],
        "gzip_bad_crc": bytes([AS_GZ]) + corrupt_crc(gzip_member(images)),
        "gzip_bad_deflate": bytes([AS_GZ])
        + gzip_member(images)[:10]
        + b"\xff" * 20,
        "gzip_trailing_garbage": bytes([AS_GZ]) + gzip_member(labels) + b"\x00",
        "gzip_bomb_header": bytes([AS_GZ])
        + gzip_member(idx([0x4000, 0x4000], [0] * 70000)),
    }
    return seeds


def corrupt_crc(member):
    crc = struct.unpack("<I", member[-8:-4])[0] ^ 0x1
    return member[:-8] + struct.pack("<I", crc) + member[-4:]


# ---- Object cache entries (fuzz/object_cache_fuzzer.cc): the entry ----
CACHE_DESCRIPTION = b"kiln fuzz target\nkey 0"
CACHE_FORMAT_VERSION = 1


def fnv1a64(data, value=0xCBF29CE484222325):
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def cache_entry(obj, description=CACHE_DESCRIPTION,
                version=CACHE_FORMAT_VERSION):
    """An entry as jit/object_cache.h lays it out."""
    checksum = fnv1a64(obj, fnv1a64(description))
    return (b"KILNJIT\x1a" + struct.pack("<IIQQ", version, len(description),
                                         len(obj), checksum)
            + description + obj)


def object_cache_seeds():
    obj = b"\x7fELF\x02\x01\x01" + bytes(range(57))
    good = cache_entry(obj)
    flipped = bytearray(good)
    flipped[-5] ^= 0x20
    return {
        "valid": good,
        "valid_empty_object": cache_entry(b""),
        "empty": b"",
        "header_only": good[:32],
        "truncated": good[:-1],
        "trailing_byte": good + b"\x00",
        "bit_flipped_object": bytes(flipped),
        "other_version": cache_entry(obj, version=CACHE_FORMAT_VERSION + 1),
        "other_description": cache_entry(
            obj, description=b"kiln fuzz target\nkey 1"),
        "description_longer_than_entry": good[:12] + struct.pack("<I", 1 << 31)
        + good[16:],
        "object_length_overflows": good[:16] + struct.pack("<Q", (1 << 64) - 1)
        + good[24:],
        "bare_object_file": obj,
    }


# ---- Graph builder (fuzz/graph_builder_fuzzer.cc): a program of calls ----
# Bytes as the fuzzer's Decoder reads them. Operands are counted back from
# the newest node: 0 is the last node built.
F32, F64 = 0, 1
SMALL_DIMS = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 7: 5, 8: 6, 16: 7}
INPUT, PARAMETER, FILL, CONSTANT = 0, 1, 2, 3
UNARY = ["neg", "exp", "log", "square", "sigmoid", "tanh", "relu", "softmax",
         "log_softmax", "sum_all", "transpose"]
BINARY = ["add", "sub", "mul", "div", "less", "less_equal", "greater",
          "greater_equal", "equal", "not_equal", "matmul", "half_mse",
          "sigmoid_cross_entropy", "softmax_cross_entropy", "accuracy"]
REDUCE = ["sum", "mean", "max", "argmax"]


def leaf(kind, dims, values=()):
    return [0, kind, len(dims)] + [SMALL_DIMS[d] for d in dims] + [1] + list(
        values)


def unary(name, operand=0):
    return [3, operand, UNARY.index(name)]


def binary(name, a, b):
    return [5, a, BINARY.index(name), b]


def reduce(name, axis, keepdims, operand=0):
    return [8, operand, axis + 3, int(keepdims), REDUCE.index(name)]


def program(dtype, steps, training=True, feeds=()):
    body = [b for step in steps for b in step]
    return bytes([dtype, len(steps) - 1] + body + [0 if training else 1]
                 + list(feeds))


def graph_builder_seeds():
    mlp = [
        leaf(INPUT, [4, 3]),             # x
        leaf(PARAMETER, [3, 2]),         # w
        binary("matmul", 1, 0),          # x·w
        leaf(PARAMETER, [2]),            # b
        binary("add", 1, 0),             # x·w + b, broadcast
        unary("sigmoid"),
        leaf(INPUT, [4, 2]),             # y
        binary("softmax_cross_entropy", 1, 0),
    ]
    rowwise = [
        leaf(INPUT, [3, 5]),
        unary("softmax"),
        unary("log"),                    # log(softmax): fused by the passes
        reduce("sum", -1, True),
        leaf(PARAMETER, [3, 1]),
        binary("mul", 1, 0),
    ]
    reductions = [
        leaf(PARAMETER, [2, 3, 4]),
        reduce("max", 1, False),
        reduce("mean", 0, True, 1),
        reduce("argmax", 2, False, 2),
        binary("sub", 2, 1),
    ]
    seeds = {
        "mlp_training_step_f64": program(F64, mlp),
        "mlp_forward_f32": program(F32, mlp, training=False),
        "log_of_softmax_f32": program(F32, rowwise),
        "reductions_f64": program(F64, reductions),
        "matmul_inner_mismatch": program(
            F32, [leaf(INPUT, [2, 3]), leaf(INPUT, [2, 3]),
                  binary("matmul", 1, 0)]),
        "dtype_mismatch": bytes([F32, 2] + leaf(INPUT, [2])
                                + [0, INPUT, 1, 1, 0]  # f64 leaf
                                + binary("add", 1, 0)),
        "matmul_result_overflows": bytes(
            [F32, 2, 0, INPUT, 2, 252, 0, 1, 0, INPUT, 2, 0, 252, 1]
            + binary("matmul", 1, 0)),
        "over_memory_budget": bytes([F64, 1, 0, INPUT, 1, 250, 1]
                                    + unary("exp")),
        "constants_with_nan_and_inf": program(
            F64, [leaf(CONSTANT, [2, 2], [128 + 22, 128 + 20, 128 + 21, 5]),
                  unary("tanh"), leaf(PARAMETER, [2, 2]),
                  binary("div", 1, 0)]),
    }
    # Unstructured inputs, drawn once with a fixed seed.
    import random
    rng = random.Random(7)
    for i in range(12):
        seeds["random_%02d" % i] = bytes(
            rng.randrange(256) for _ in range(rng.randrange(8, 96)))
    return seeds


# ---- Checkpoints (fuzz/checkpoint_fuzzer.cc): a mode byte, then bytes ----
# Mode bits 0-1: 0 an f32 checkpoint, 1 an f64 one, 2 bare safetensors, 3
# bare JSON; bit 2 picks the model: 0 is 4-3:sigmoid-2:softmax_cross_entropy,
# 1 is 3-2:identity_mse.
CKPT_F32, CKPT_F64, SAFETENSORS, JSON = 0, 1, 2, 3
MODELS = [
    ("4-3:sigmoid-2:softmax_cross_entropy",
     [("hidden1.weight", [4, 3]), ("hidden1.bias", [3]),
      ("output.weight", [3, 2]), ("output.bias", [2])]),
    ("3-2:identity_mse", [("output.weight", [3, 2]), ("output.bias", [2])]),
]


def safetensors(tensors, metadata=None, pad=True, header_override=None):
    """A safetensors file: tensors maps name to (dtype, shape, data)."""
    header = {}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    if header_override is not None:
        text = header_override
    if pad:
        text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def values(dtype, count, start=0.0):
    fmt = "<f" if dtype == "F32" else "<d"
    return b"".join(struct.pack(fmt, start + 0.25 * i) for i in range(count))


def checkpoint_tensors(model, dtype):
    tensors = {}
    for name, shape in MODELS[model][1]:
        count = 1
        for d in shape:
            count *= d
        tensors[name] = (dtype, shape, values(dtype, count))
    return tensors


def checkpoint(model, dtype, epochs="12", **changes):
    metadata = {"architecture": MODELS[model][0],
                "dtype": dtype.lower(), "epochs_completed": epochs,
                "learning_rate": "0.05"}
    metadata.update(changes.pop("metadata", {}))
    return safetensors(checkpoint_tensors(model, dtype), metadata, **changes)


def checkpoint_seeds():
    def mode(m, model=0):
        return bytes([m | (model << 2)])

    good32 = checkpoint(0, "F32")
    tensors = checkpoint_tensors(0, "F64")
    missing = dict(tensors)
    del missing["output.bias"]
    extra = dict(tensors)
    extra["output.scale"] = ("F64", [2], values("F64", 2))
    wrong_shape = dict(tensors)
    wrong_shape["output.bias"] = ("F64", [3], values("F64", 3))
    return {
        "valid_f32": mode(CKPT_F32) + good32,
        "valid_f64": mode(CKPT_F64) + checkpoint(0, "F64"),
        "valid_no_hidden_f64": mode(CKPT_F64, 1) + checkpoint(1, "F64"),
        "valid_without_metadata": mode(CKPT_F64)
        + safetensors(tensors, None),
        "valid_safetensors": mode(SAFETENSORS) + good32,
        "valid_json": mode(JSON)
        + b'{"a": [1, -2.5e3, true, null, "\\u00e9\\n"], "b": {}}',
        "empty": mode(CKPT_F64),
        "header_length_only": mode(CKPT_F64) + struct.pack("<Q", 10),
        "header_length_huge": mode(CKPT_F64) + struct.pack("<Q", 1 << 62)
        + b"{}",
        "header_longer_than_file": mode(SAFETENSORS)
        + struct.pack("<Q", 100) + b"{}",
        "header_not_json": mode(SAFETENSORS)
        + safetensors({}, header_override=b"{not json"),
        "header_trailing_comma": mode(SAFETENSORS)
        + safetensors({}, header_override=b'{"a":{"dtype":"F32",},}'),
        "dtype_bf16": mode(SAFETENSORS)
        + safetensors({"t": ("BF16", [2], b"\x00" * 4)}),
        "dtype_i64": mode(SAFETENSORS)
        + safetensors({"t": ("I64", [1], b"\x00" * 8)}),
        "shape_negative": mode(SAFETENSORS) + safetensors(
            {}, header_override=b'{"t":{"dtype":"F32","shape":[-1],'
            b'"data_offsets":[0,4]}}') + b"\x00" * 4,
        "shape_overflows": mode(SAFETENSORS) + safetensors(
            {}, header_override=b'{"t":{"dtype":"F64","shape":'
            b'[4294967296,4294967296],"data_offsets":[0,8]}}') + b"\x00" * 8,
        "offsets_past_end": mode(SAFETENSORS) + safetensors(
            {}, header_override=b'{"t":{"dtype":"F32","shape":[2],'
            b'"data_offsets":[0,8]}}') + b"\x00" * 4,
        "offsets_overlap": mode(SAFETENSORS) + safetensors(
            {}, header_override=b'{"a":{"dtype":"F32","shape":[2],'
            b'"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],'
            b'"data_offsets":[4,12]}}') + b"\x00" * 12,
        "offsets_huge": mode(SAFETENSORS) + safetensors(
            {}, header_override=b'{"t":{"dtype":"F32","shape":[1],'
            b'"data_offsets":[18446744073709551612,18446744073709551616]}}'),
        "duplicate_key": mode(SAFETENSORS) + safetensors(
            {}, header_override=b'{"t":{"dtype":"F32","shape":[1],'
            b'"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],'
            b'"data_offsets":[0,4]}}') + b"\x00" * 4,
        "metadata_not_strings": mode(SAFETENSORS)
        + safetensors({}, {"epochs": 3}),
        "trailing_data": mode(CKPT_F32) + good32 + b"\x00" * 8,
        "missing_parameter": mode(CKPT_F64) + safetensors(missing, None),
        "extra_tensor": mode(CKPT_F64) + safetensors(extra, None),
        "wrong_shape": mode(CKPT_F64) + safetensors(wrong_shape, None),
        "wrong_dtype": mode(CKPT_F64) + good32,
        "other_architecture": mode(CKPT_F64) + checkpoint(
            0, "F64", metadata={"architecture": "4-3:tanh-2:softmax_cross_"
                                "entropy"}),
        "negative_epochs": mode(CKPT_F64) + checkpoint(0, "F64", epochs="-4"),
        "epochs_not_a_number": mode(CKPT_F64)
        + checkpoint(0, "F64", epochs="twelve"),
        "json_deep_nesting": mode(JSON) + b"[" * 5000 + b"]" * 5000,
        "json_bad_utf8": mode(JSON) + b'"\xc3\x28"',
        "json_lone_surrogate": mode(JSON) + b'"\\ud800"',
        "json_nan": mode(JSON) + b"[NaN]",
    }


def write(target, seeds):
    directory = os.path.join(HERE, "corpus", target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def main():
    write("checkpoint", checkpoint_seeds())
    write("idx", idx_seeds())
    write("object_cache", object_cache_seeds())
    write("graph_builder", graph_builder_seeds())


if __name__ == "__main__":
    main()
