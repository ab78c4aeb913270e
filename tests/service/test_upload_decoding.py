"""Decoding an upload with one copy: the .npy data streamed a chunk at a time, the checks and summaries a
block of rows at a time, JSON checked without pydantic; each against numpy doing the same in one piece."""

import io
import json
import zipfile

import numpy as np
import pytest

from service import json_upload
from service.canonical import FramedInputs, Refused, check_finite, column_std
from service.npy_stream import read_header, stream_into
from service.uploads import UploadRefused, plan_upload, read_npz, read_upload
from tlprobe_server.arrays import frame, unframe
from tlprobe_server.settings import Settings

SETTINGS = Settings()


def npy_handle(array: np.ndarray, fortran: bool = False) -> io.BytesIO:
    buffer = io.BytesIO()
    np.save(buffer, np.asfortranarray(array) if fortran else array)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("dtype", ["<f8", ">f8", "<f4", "<f2", "|u1", "<i4", ">i2", "|b1"])
@pytest.mark.parametrize("fortran", [False, True])
def test_streamed_data_equal_numpy_load_converted_to_float64(dtype, fortran):
    rng = np.random.default_rng(3)
    array = (rng.standard_normal((53, 17)) * 40).astype(dtype)
    expected = np.ascontiguousarray(np.load(npy_handle(array, fortran)), dtype=np.float64)
    # chunks of 1 value, a prime number of bytes (rows split anywhere), one row and a bit, all at once
    for chunk_bytes in (1, 7 * array.dtype.itemsize, 18 * array.dtype.itemsize, 1 << 20):
        handle = npy_handle(array, fortran)
        header = read_header(handle)
        assert header.fortran_order == fortran and header.shape == (53, 17)
        out = np.full((53, 17), np.nan)
        stream_into(handle, header, out, chunk_bytes)
        assert out.tobytes() == expected.tobytes(), chunk_bytes


def test_data_shorter_than_the_header_declares_is_an_error_and_extra_data_is_ignored():
    whole = npy_handle(np.arange(12.0).reshape(3, 4)).getvalue()
    handle = io.BytesIO(whole[:-8])
    with pytest.raises(EOFError, match="end after 88 of the 96 bytes the header declares"):
        stream_into(handle, read_header(handle), np.empty((3, 4)), chunk_bytes=40)
    handle = io.BytesIO(whole + b"\x00" * 16)
    out = np.empty((3, 4))
    stream_into(handle, read_header(handle), out)
    assert out.tolist() == np.arange(12.0).reshape(3, 4).tolist()


def test_framed_inputs_are_the_stored_format_with_an_aligned_matrix():
    for shape in [(2, 1), (3, 7), (100, 13)]:
        inputs = FramedInputs(*shape)
        inputs.matrix[:] = np.arange(np.prod(shape)).reshape(shape) / 3
        assert inputs.matrix.flags.c_contiguous and inputs.matrix.flags.aligned and inputs.matrix.ctypes.data % 8 == 0
        assert bytes(inputs.bytes) == frame("<f8", shape, inputs.matrix.tobytes())
        assert len(inputs.bytes) + 8 == FramedInputs.size(*shape)
        dtype, stored_shape, raw = unframe(bytes(inputs.bytes))
        assert (dtype, stored_shape) == ("<f8", list(shape)) and raw == inputs.matrix.tobytes()


def test_blockwise_std_is_numpys_to_the_last_bit():
    rng = np.random.default_rng(0)
    for _ in range(60):
        n, width = int(rng.integers(2, 2000)), int(rng.integers(1, 40))
        inputs = rng.standard_normal((n, width)) * rng.uniform(0.1, 1e3) + rng.uniform(-1e4, 1e4)
        means = inputs.mean(axis=0)
        for block_bytes in (8, 8 * width * 7 + 3, 1000, 1 << 22):
            assert np.array_equal(column_std(inputs, means, block_bytes), inputs.std(axis=0)), (n, width, block_bytes)


def test_the_first_non_finite_value_is_found_in_row_order_across_blocks():
    inputs = np.zeros((50, 6))
    inputs[31, 4], inputs[12, 5], inputs[12, 0], inputs[49, 5] = np.inf, np.nan, -np.inf, np.nan
    for block_bytes in (8, 48 * 5, 1 << 20):
        with pytest.raises(Refused, match=r"4 NaN or infinite value\(s\), the first at row 12, column 0"):
            check_finite(inputs, block_bytes)
    check_finite(np.ones((50, 6)), 8)


def test_an_npz_decoded_in_small_chunks_is_the_same_dataset():
    rng = np.random.default_rng(5)
    inputs, labels = rng.standard_normal((300, 11)).astype(np.float32), np.arange(300) % 2
    buffer = io.BytesIO()
    np.savez_compressed(buffer, inputs=np.asfortranarray(inputs), labels=labels)
    plan = plan_upload(buffer.getvalue(), "application/octet-stream", SETTINGS)
    whole = read_upload(plan, SETTINGS)
    framed, _ = read_npz(plan, chunk_bytes=44)
    assert bytes(framed.bytes) == bytes(whole.arrays["inputs"]) == frame("<f8", (300, 11),
                                                                             inputs.astype(np.float64).tobytes())


def test_a_corrupt_compressed_member_is_a_422_naming_it():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, inputs=np.random.default_rng(0).standard_normal((400, 30)), labels=np.arange(400) % 2)
    body = bytearray(buffer.getvalue())
    body[2000:2400] = b"\xff" * 400  # inside the deflated inputs, past their header
    plan = plan_upload(bytes(body), "application/octet-stream", SETTINGS)
    with pytest.raises(UploadRefused, match="the data of inputs.npy cannot be read") as refused:
        read_upload(plan, SETTINGS)
    assert refused.value.status == 422 and refused.value.loc == ("body", "inputs")


def json_reason(body) -> tuple[str, tuple]:
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(UploadRefused) as refused:
        read_upload(plan_upload(body, "application/json", SETTINGS), SETTINGS)
    return refused.value.reason, refused.value.loc


def test_json_is_checked_as_the_contract_says_stopping_at_the_first_error():
    assert json_reason({"inputs": [[1, 2], [3, 4]]}) == ("Field required", ("body", "labels"))
    assert json_reason({"inputs": [[1], [2]], "labels": [0, 1], "weights": [1, 1]})[0].startswith("an upload is")
    assert json_reason(b'{"inputs": [[1], [2]], "w": [0, 1]}') == ("Field required", ("body", "labels"))
    assert json_reason({"inputs": [[1, 2], [3, True]], "labels": [0, 1]}) == ("Input should be a valid number",
                                                                             ("body", "inputs", 1, 1))
    assert json_reason({"inputs": [[1, 2], [3, [4]]], "labels": [0, 1]})[1] == ("body", "inputs", 1, 1)
    assert json_reason({"inputs": [[1, 2], 3], "labels": [0, 1]}) == ("Input should be a valid list", ("body", "inputs", 1))
    assert json_reason({"inputs": [[1], [2]], "labels": [0, None]}) == ("Input should be a valid number", ("body", "labels", 1))
    assert json_reason({"inputs": [[1], [2]], "labels": 1}) == ("Input should be a valid list", ("body", "labels"))
    assert json_reason([1, 2])[0] == "Input should be a valid dictionary or object to extract fields from"
    assert "finite" in json_reason(b'{"inputs": [[Infinity], [1]], "labels": [0, 1]}')[0]
    assert json_reason(b'{"inputs": [[1e999], [1]], "labels": [0, 1]}')[0].startswith("inputs contain 1 NaN or infinite")
    assert json_reason(b'{"inputs": [[1%s], [1]], "labels": [0, 1]}' % (b"0" * 400)) == ("Input should be a finite number",
                                                                                     ("body", "inputs", 0))
    assert json_reason(b'{"inputs": [[1]], "labels": [0, 1], }')[0].startswith("Invalid JSON")
    assert json_reason(b'{"inputs": [[1], [2]], "labels": ["\xc3\xa9", 1]}')[0].startswith("Invalid JSON: byte 35 is not")
    assert json_reason(b'{"inputs": [[1], [2]], "labels": [{}, 1]}')[0].endswith("holds objects inside it")
    assert json_reason(b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b', "labels": []}')[0].startswith("Invalid JSON")


def test_json_integers_and_floats_are_the_same_dataset_as_the_npz():
    inputs = np.array([[1, 2**53 + 1, -7], [0, 3, 10**17]])
    as_json = read_upload(plan_upload(json.dumps({"inputs": inputs.tolist(), "labels": [1, 0]}).encode(),
                                      "application/json", SETTINGS), SETTINGS)
    buffer = io.BytesIO()
    np.savez(buffer, inputs=inputs, labels=np.array([1, -1]))
    as_npz = read_upload(plan_upload(buffer.getvalue(), "application/octet-stream", SETTINGS), SETTINGS)
    assert as_json.description.dataset_id == as_npz.description.dataset_id
    assert bytes(as_json.arrays["inputs"]) == bytes(as_npz.arrays["inputs"])


def test_json_memory_is_foretold_from_brackets_and_commas():
    body = b'{"inputs": [[1, 2]], "labels": [0]}'  # three lists, three values (two commas)
    assert json_upload.memory_bytes(body) == (json_upload.PER_BODY_BYTE * len(body) + json_upload.PER_LIST * 3
                                              + json_upload.PER_VALUE * 3)


def test_members_numpy_does_not_write_are_refused_before_reading_them():
    def archive(inputs_name: str, compression: int = zipfile.ZIP_STORED) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as written:
            written.writestr(inputs_name, npy_handle(np.zeros((100, 3))).getvalue(), compress_type=compression)
            written.writestr("labels.npy", npy_handle(np.arange(100) % 2).getvalue())
        return buffer.getvalue()

    def refusal(body: bytes) -> str:
        with pytest.raises(UploadRefused) as refused:
            plan_upload(body, "application/octet-stream", SETTINGS)
        assert refused.value.status == 422 and refused.value.loc == ("body", "inputs")
        return refused.value.reason

    # bzip2 and lzma members would be inflated a whole read at a time (zipfile gives them no limit)
    assert refusal(archive("inputs.npy", zipfile.ZIP_BZIP2)).startswith("inputs.npy is compressed with zip method 12")
    assert refusal(archive("inputs.npy", zipfile.ZIP_LZMA)).startswith("inputs.npy is compressed with zip method 14")
    assert refusal(archive("inputs")) == "malformed file: the archive holds 'inputs' but no 'inputs.npy'"
    encrypted = bytearray(archive("inputs.npy"))
    for signature in (b"PK\x03\x04", b"PK\x01\x02"):  # the local header's flags, then the directory's
        at = encrypted.find(signature) + (6 if signature == b"PK\x03\x04" else 8)
        encrypted[at] |= 0x1
    assert refusal(bytes(encrypted)) == "inputs.npy is encrypted"
