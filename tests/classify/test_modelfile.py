"""The model file: header checked before unpickling; incompatible or damaged files refused."""

from __future__ import annotations

import json

import pytest

from shiyu.classify import modelfile, service
from tests.classify.data import model_bytes


def _with_header(data: bytes, **changes: object) -> bytes:
    header, offset = modelfile.read_header(data)
    raw = {**header.to_json(), **changes}
    head = json.dumps(raw, ensure_ascii=False).encode("utf-8")
    return modelfile.MAGIC + head + b"\n" + data[offset:]


def test_round_trip_keeps_metadata_and_predictions() -> None:
    data = model_bytes()
    loaded = service.load_bytes(data)
    assert loaded.header.classes == sorted(loaded.header.classes)
    assert loaded.header.rows == 400
    top = loaded.predict_many([("小区楼下垃圾堆积无人清理", "臭气熏天")], top_k=3)[0]
    assert len(top) == 3 and top[0].probability >= top[1].probability
    assert 0 < sum(p.probability for p in top) <= 1.0001


def test_other_scikit_learn_minor_version_is_refused() -> None:
    libraries = {**service.load_bytes(model_bytes()).header.libraries, "scikit-learn": "1.7.2"}
    bad = _with_header(model_bytes(), libraries=libraries)
    with pytest.raises(modelfile.IncompatibleModel, match=r"scikit-learn 1\.7\.2"):
        service.load_bytes(bad)


def test_other_format_version_is_refused() -> None:
    with pytest.raises(modelfile.IncompatibleModel, match="format version"):
        service.load_bytes(_with_header(model_bytes(), format=99))


def test_damaged_payload_is_refused_before_unpickling() -> None:
    data = bytearray(model_bytes())
    data[-10] ^= 0xFF
    with pytest.raises(modelfile.IncompatibleModel, match="sha256"):
        service.load_bytes(bytes(data))


def test_not_a_model_file() -> None:
    with pytest.raises(modelfile.IncompatibleModel, match="magic"):
        service.load_bytes(b"\x80\x04K\x01.")  # a bare pickle is never loaded


def test_new_files_are_format_2_and_format_1_headers_are_read() -> None:
    data = model_bytes()
    header, _ = modelfile.read_header(data)
    assert header.format == modelfile.FORMAT_VERSION == 2
    old, _ = modelfile.read_header(_with_header(data, format=1))
    assert old.format == 1
