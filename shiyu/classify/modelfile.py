"""The classifier model file: a readable header, then a joblib payload.

Layout (one file, so it can be copied, uploaded and stored in the database as one blob)::

    SHIYU-CLASSIFIER\\n          magic line
    {"format": 1, ...}\\n         one line of JSON metadata (classes, data sha256, metrics,
                                  library versions, training time, payload sha256 and size)
    <joblib bytes>                the fitted pipeline

The header is read and checked before anything is unpickled: the format version (this
installation writes 2 and reads 1 and 2; older installations refuse 2) and the major.
minor versions of scikit-learn (pickles are not portable across its minor releases) must match
this installation, and the sha256 of the payload must equal the header's. Unpickling still runs
code chosen by whoever wrote the file, so model files are trusted artefacts: only administrators
may upload them, and the hash check guards against damaged or truncated files, not against a
malicious author.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy
import scipy
import sklearn

from shiyu.errors import InvalidInput

MAGIC = b"SHIYU-CLASSIFIER\n"
#: written by this installation. 2: NB-SVM pipeline (per-class linear scorers and offsets);
#: 1: multi-class LinearSVC pipeline, still read and served
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
#: header lines longer than this are not a Shiyu header (and are never parsed)
MAX_HEADER_BYTES = 1_000_000


class IncompatibleModel(InvalidInput):
    code = "classifier.incompatible_model"
    message = "模型文件不兼容 (incompatible model file)"


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


@dataclass
class ModelHeader:
    classes: list[str]
    text_cols: list[str]
    label_col: str
    data_sha256: str
    rows: int
    metrics: dict[str, Any]
    trained_at: str
    train_seconds: float
    config: dict[str, Any]
    libraries: dict[str, str] = field(default_factory=library_versions)
    format: int = FORMAT_VERSION
    payload_sha256: str = ""
    payload_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def dumps(header: ModelHeader, pipeline: object) -> bytes:
    buf = io.BytesIO()
    joblib.dump(pipeline, buf, compress=3)
    payload = buf.getvalue()
    header.payload_sha256 = hashlib.sha256(payload).hexdigest()
    header.payload_bytes = len(payload)
    head = json.dumps(header.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
    return MAGIC + head + b"\n" + payload


def _refuse(reason: str, **details: Any) -> IncompatibleModel:
    return IncompatibleModel(
        f"模型文件不兼容：{reason}", details=[{"loc": ["model"], "msg": reason, **details}]
    )


def read_header(data: bytes) -> tuple[ModelHeader, int]:
    """The header and the offset of the payload; refuses anything this version cannot load."""
    if not data.startswith(MAGIC):
        raise _refuse("not a Shiyu classifier model file (missing magic line)")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER_BYTES)
    if end < 0:
        raise _refuse("header line missing or too long")
    try:
        raw = json.loads(data[len(MAGIC) : end].decode("utf-8"))
        if not isinstance(raw, dict):
            raise TypeError("header is not an object")
        if raw.get("format") not in READABLE_FORMATS:
            readable = ", ".join(str(v) for v in READABLE_FORMATS)
            raise _refuse(
                f"format version {raw.get('format')!r}, this installation reads {readable}"
            )
        header = ModelHeader(**raw)
    except (ValueError, TypeError) as exc:
        raise _refuse(f"unreadable header ({exc})") from exc
    theirs = str(header.libraries.get("scikit-learn", "?"))
    if _minor(theirs) != _minor(sklearn.__version__):
        raise _refuse(
            f"trained with scikit-learn {theirs}, this installation has {sklearn.__version__}",
            trained_with=theirs,
            installed=sklearn.__version__,
        )
    return header, end + 1


def loads(data: bytes) -> tuple[ModelHeader, Any]:
    header, offset = read_header(data)
    payload = data[offset:]
    if len(payload) != header.payload_bytes:
        raise _refuse(f"payload is {len(payload)} bytes, header says {header.payload_bytes}")
    if hashlib.sha256(payload).hexdigest() != header.payload_sha256:
        raise _refuse("payload sha256 does not match the header (damaged file)")
    # a trusted artefact whose integrity was just checked (see the module docstring)
    pipeline = joblib.load(io.BytesIO(payload))
    return header, pipeline
