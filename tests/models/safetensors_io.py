#!/usr/bin/python3
"""A safetensors reader and writer in plain Python, written from the format's
specification, for checking Kiln's checkpoints against NumPy and PyTorch.

Debian packages no `safetensors` module, so this file is the independent
implementation that Kiln's files are read with. The format:

  8 bytes      N, the header length, unsigned little-endian
  N bytes      a JSON object: per tensor {"dtype", "shape", "data_offsets"}
               with offsets relative to the data section, plus an optional
               "__metadata__" object of strings; trailing spaces may pad it
  the rest     the data section, each tensor row-major and little-endian

Functions:
  read(path) -> (dict name -> numpy array, dict metadata)
  read_torch(path) -> dict name -> torch tensor, decoded by torch itself
  write(path, arrays, metadata=None, align=8)
"""

import json
import struct

import numpy as np

# safetensors dtype names and their little-endian NumPy types.
NUMPY_DTYPES = {
    "F64": "<f8", "F32": "<f4", "F16": "<f2",
    "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
    "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?",
}


def dtype_name(dtype):
    """The safetensors name of a little-endian (or byte-sized) NumPy dtype."""
    for name, code in NUMPY_DTYPES.items():
        if np.dtype(code) == dtype:
            return name
    raise ValueError(f"safetensors has no dtype for {dtype}")


def _split(data):
    """Returns (header dict, data section) after checking lengths."""
    if len(data) < 8:
        raise ValueError(f"{len(data)} bytes is too short for a header length")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ValueError(f"header length {length} overflows the file")
    header = json.loads(data[8:8 + length].decode("utf-8"))
    return header, data[8 + length:]


def _entries(header):
    """The tensor entries of a header, metadata removed."""
    return {k: v for k, v in header.items() if k != "__metadata__"}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    header, body = _split(data)
    arrays = {}
    for name, entry in _entries(header).items():
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(body):
            raise ValueError(f"{name}: offsets [{begin}, {end}] leave the file")
        dtype = np.dtype(NUMPY_DTYPES[entry["dtype"]])
        count = int(np.prod(entry["shape"], dtype=np.int64))
        if count * dtype.itemsize != end - begin:
            raise ValueError(f"{name}: {end - begin} bytes for {count} items")
        arrays[name] = np.frombuffer(body[begin:end], dtype).reshape(
            entry["shape"]).copy()
    return arrays, header.get("__metadata__", {})


def read_torch(path):
    """Decodes each tensor with torch.frombuffer, without going through
    NumPy, so that PyTorch's own reading of the bytes is what is checked."""
    import torch
    torch_dtypes = {"F64": torch.float64, "F32": torch.float32}
    with open(path, "rb") as f:
        data = f.read()
    header, body = _split(data)
    tensors = {}
    for name, entry in _entries(header).items():
        begin, end = entry["data_offsets"]
        chunk = bytearray(body[begin:end])
        tensors[name] = torch.frombuffer(
            chunk, dtype=torch_dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors


def serialize(arrays, metadata=None, align=8):
    """The bytes of a file holding `arrays` in their dict order. With align,
    the header is padded with spaces so the data starts at that multiple."""
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    chunks = []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        raw = little.tobytes()
        header[name] = {"dtype": dtype_name(little.dtype),
                        "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    if align:
        text += b" " * ((-(8 + len(text))) % align)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write(path, arrays, metadata=None, align=8):
    with open(path, "wb") as f:
        f.write(serialize(arrays, metadata, align))
