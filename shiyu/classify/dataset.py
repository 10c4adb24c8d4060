"""Reading a city's labelled history (CSV or XLSX: text columns + a label column)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from shiyu.errors import InvalidInput


class DatasetError(InvalidInput):
    code = "classifier.bad_dataset"
    message = "训练数据无效 (invalid training data)"


@dataclass
class Dataset:
    rows: list[list[str]]
    labels: list[str]
    text_cols: list[str]
    label_col: str
    sha256: str

    def __len__(self) -> int:
        return len(self.rows)


def _error(zh: str, en: str, **details: object) -> DatasetError:
    return DatasetError(f"{zh} ({en})", details=[{"msg": en, **details}])


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _error("文件编码无法识别", "file is neither UTF-8 nor GB18030")


def _table_csv(data: bytes) -> list[list[str]]:
    return [list(r) for r in csv.reader(io.StringIO(_decode(data)))]


def _table_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _error("无法读取 Excel 文件", f"cannot read XLSX: {exc}") from exc
    sheet = book.worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def read_table(path: Path) -> tuple[list[list[str]], bytes]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _error("无法读取文件", f"cannot read {path}: {exc.strerror}") from exc
    table = _table_xlsx(data) if path.suffix.lower() in (".xlsx", ".xlsm") else _table_csv(data)
    return table, data


def from_table(
    table: list[list[str]], data: bytes, text_cols: list[str], label_col: str | None
) -> Dataset:
    """Rows with every named column; a label is required when `label_col` is given. Rows
    whose texts are all empty are skipped (they carry nothing to learn from)."""
    if not table or not any(c.strip() for c in table[0]):
        raise _error("文件为空", "empty file")
    header = [c.strip() for c in table[0]]
    wanted = [*text_cols, *([label_col] if label_col else [])]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise _error(
            f"缺少列：{', '.join(missing)}",
            f"missing columns: {', '.join(missing)}",
            missing=missing,
            columns=header,
        )
    text_idx = [header.index(c) for c in text_cols]
    label_idx = header.index(label_col) if label_col else None
    rows: list[list[str]] = []
    labels: list[str] = []
    for raw in table[1:]:
        cells = [*raw, *[""] * (len(header) - len(raw))]
        texts = [cells[i].strip() for i in text_idx]
        if not any(texts):
            continue
        if label_idx is not None:
            label = cells[label_idx].strip()
            if not label:
                continue
            labels.append(label)
        rows.append(texts)
    if not rows:
        raise _error("文件中没有数据行", "no data rows")
    return Dataset(rows, labels, text_cols, label_col or "", hashlib.sha256(data).hexdigest())


def load(path: Path, text_cols: list[str], label_col: str | None) -> Dataset:
    table, data = read_table(path)
    return from_table(table, data, text_cols, label_col)


def require_trainable(ds: Dataset, *, min_per_class: int = 1) -> None:
    counts = Counter(ds.labels)
    if len(counts) < 2:
        raise _error(
            "标签只有一个类别，无法训练",
            f"the label column has {len(counts)} class(es); at least 2 are needed",
            classes=sorted(counts),
        )
    small = sorted(c for c, n in counts.items() if n < min_per_class)
    if small:
        raise _error(
            f"以下类别样本过少（少于 {min_per_class} 条）：{', '.join(small)}",
            f"classes with fewer than {min_per_class} rows: {', '.join(small)}",
            classes=small,
        )


def parse_columns(value: str) -> list[str]:
    cols = [c.strip() for c in value.split(",") if c.strip()]
    if not cols:
        raise _error("未指定文本列", "no text columns given")
    return cols
