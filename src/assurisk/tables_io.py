"""Bulk scoring of tables in files and streams: CSV, JSON Lines and Parquet, chunk by chunk.

The table is read in chunks (``chunk_rows`` rows; memory stays bounded whatever the file's size),
each chunk is reduced to its distinct combinations of the columns scoring reads
(:data:`KEY_COLUMNS`), only combinations not seen in an earlier chunk are validated and scored
(a cache of pattern results lives as long as the :class:`ChunkScorer`, i.e. one fit and one
interval), and the score columns are broadcast back to the rows and written out. Reading and writing
go through pyarrow (CSV, Parquet) or pandas (JSON Lines).

Every input column is kept: CSV columns are read as text and written back unchanged; Parquet and
JSON columns keep their types. A score column already present in the input is replaced (and, in
JSON Lines output, a key named like a provenance key), so earlier output can be scored again.

Problems are reported as :func:`assurisk.Fit.score` reports them, with row numbers counted over the
whole input (row N of a CSV file is on line N+1); for a value that occurs on many rows, the first row
is named.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AssuriskError, InputError

FORMATS = ("csv", "jsonl", "parquet")
SUFFIXES = {".csv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
            ".parquet": "parquet", ".pq": "parquet"}
KEY_COLUMNS = ("receiving_state", "case_type", "year", "assurance_types", "monitoring")
CHECKED_COLUMNS = ("n_transfers", "n_breaches", "n_honored_verified")  # not used by scoring, but checked if present
CHUNK_ROWS = 262_144  # rows per chunk (CSV: about 8 MB of a typical case table)
CACHE_LIMIT = 262_144  # distinct patterns remembered across chunks (beyond it, new patterns are scored per chunk)
STDIO = "-"
PARALLEL_MIN_PATTERNS = 64  # below this many new patterns per thread, threads cost more than they save


class FormatError(AssuriskError, ValueError):
    """A table format cannot be told or read (unknown suffix, unreadable file, bad JSON line)."""


def format_of(path: str | None, given: str | None = None, fallback: str | None = None) -> str:
    """The format of ``path``: ``given`` if set, else from its suffix (.csv, .jsonl/.ndjson/.json,
    .parquet/.pq), else ``fallback`` when the name has no suffix."""
    if given:
        g = given.lower()
        if g not in FORMATS:
            raise FormatError(f"unknown format {given!r}; choose from {', '.join(FORMATS)}")
        return g
    suffix = ""
    if path and path != STDIO:
        suffix = Path(path).suffix.lower()
        if suffix in SUFFIXES:
            return SUFFIXES[suffix]
    if fallback and not suffix:  # no suffix (or stdin/stdout): the fallback; an unknown suffix is an error
        return fallback
    raise FormatError(f"cannot tell the format of {path!r} from its name; give --format csv|jsonl|parquet")


# --- reading ---------------------------------------------------------------------------------------
def _pa():
    import pyarrow as pa

    return pa


def _read_csv(stream, chunk_rows: int, label: str = "the input") -> Iterator:
    """CSV read as strictly as :func:`assurisk.contract.read_csv_table` (same options, same checks and
    messages), but chunk by chunk: records with a field added or lost refused with their row, a blank or
    repeated header name refused, an odd number of double quotes refused, text that is not UTF-8 refused."""
    import pyarrow.csv as pacsv

    from .contract import (CSV_BLOCK_BYTES, MAX_COLUMNS, ODD_QUOTES, BadRecords, _csv_error, _QuoteCounter,
                           check_header, quiet_unraisable, strict_csv_options)

    pa = _pa()
    bad = BadRecords()
    counter = _QuoteCounter(stream)
    header = None
    try:
        with quiet_unraisable():  # only while pyarrow reads, not while the caller scores a chunk
            reader = pacsv.open_csv(io.BufferedReader(counter, 1 << 20),
                                    **strict_csv_options(max(1 << 16, min(chunk_rows * 32, CSV_BLOCK_BYTES)), bad))
        if reader.schema is not None and len(reader.schema) > MAX_COLUMNS:
            raise InputError(f"cannot read case table {label!r}: more than {MAX_COLUMNS} columns")
        batches = iter(reader)
        while True:
            with quiet_unraisable():
                batch = next(batches, None)
            if batch is None:
                break
            table = pa.Table.from_batches([batch])
            if header is None:
                header = [table.column(i)[0].as_py() for i in range(table.num_columns)]
                check_header(header)
                table = table.slice(1)
            bad.check()
            if counter.eof and counter.quotes % 2:  # the whole input is read: a quoted field was left open
                raise InputError(f"cannot read case table {label!r} as CSV: {ODD_QUOTES}")
            if table.num_rows:
                yield table.rename_columns(header)
    except pa.ArrowInvalid as exc:
        raise InputError(_csv_error(label, str(exc))) from None
    bad.check()
    if counter.quotes % 2:
        raise InputError(f"cannot read case table {label!r} as CSV: {ODD_QUOTES}")


def _read_jsonl(stream, chunk_rows: int) -> Iterator:
    pa = _pa()
    try:
        reader = pd.read_json(io.TextIOWrapper(stream, encoding="utf-8"), lines=True, chunksize=chunk_rows,
                              dtype=False, convert_dates=False)
        for df in reader:
            yield pa.Table.from_pandas(df, preserve_index=False)
    except ValueError as exc:
        raise FormatError(f"cannot read the input as JSON Lines (one object per line): {exc}") from None


def _read_parquet(stream, chunk_rows: int) -> Iterator:
    import pyarrow.parquet as pq

    pa = _pa()
    try:
        src = stream if stream.seekable() else pa.BufferReader(stream.read())  # Parquet needs random access
        f = pq.ParquetFile(src)
        for batch in f.iter_batches(batch_size=chunk_rows):
            yield pa.Table.from_batches([batch])
    except (pa.ArrowInvalid, OSError) as exc:
        raise FormatError(f"cannot read the input as Parquet: {exc}") from None


READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}


def read_chunks(source, fmt: str, chunk_rows: int = CHUNK_ROWS) -> Iterator:
    """pyarrow Tables of at most about ``chunk_rows`` rows from a path, ``-`` (stdin) or a binary stream."""
    if source == STDIO:
        yield from (READERS[fmt](sys.stdin.buffer, chunk_rows, "standard input") if fmt == "csv"
                    else READERS[fmt](sys.stdin.buffer, chunk_rows))
        return
    if hasattr(source, "read"):
        yield from READERS[fmt](source, chunk_rows)
        return
    path = Path(source)
    if not path.is_file():
        raise InputError(f"cannot read case table {str(path)!r}: no such file")
    with open(path, "rb", buffering=0) as f:
        yield from (READERS[fmt](f, chunk_rows, str(path)) if fmt == "csv" else READERS[fmt](f, chunk_rows))


# --- scoring ---------------------------------------------------------------------------------------
def _group_codes(table, columns) -> tuple[np.ndarray, int]:
    """Per row, the index of its distinct combination of ``columns`` (0..G-1, in order of first appearance)."""
    import pyarrow.compute as pc

    n = table.num_rows
    code = np.zeros(n, dtype=np.int64)
    for c in columns:
        enc = pc.dictionary_encode(table[c].combine_chunks())
        idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        code, _ = pd.factorize(code * (len(enc.dictionary) + 1) + idx)
    return code.astype(np.int64, copy=False), int(code.max()) + 1 if n else 0


@dataclass
class ChunkScorer:
    """Score pyarrow tables chunk by chunk with one fit and interval, remembering pattern results.

    ``defaults`` maps a key column to a value applied to every row (the CLI's ``--year``,
    ``--monitoring``, ``--assurance``); a table that already has the column is refused.
    """

    fit: object
    interval: float = 0.9
    defaults: dict | None = None
    cache_limit: int = CACHE_LIMIT
    threads: int = 1  # new patterns are split over this many threads when there are many of them
    replace_scores: bool = False  # rescoring earlier output: drop its score columns instead of refusing

    def __post_init__(self):
        from . import scoring
        from .schema import SCORE_COLUMNS

        scoring.check_interval(self.interval)
        self.pattern_cache = scoring.PatternCache(self.fit.draws, self.fit.prior, self.interval)
        self._columns = list(SCORE_COLUMNS)
        self._keys: dict[tuple, int] = {}
        self._store = None  # pyarrow Table of score columns, one row per cached pattern
        self.rows = 0
        self.patterns_scored = 0

    def _apply_defaults(self, table):
        pa = _pa()
        for col, value in (self.defaults or {}).items():
            if col in table.column_names:
                flag = {"year": "--year", "monitoring": "--monitoring", "assurance_types": "--assurance"}.get(col, col)
                raise InputError(f"{flag} was given but the input has a {col!r} column; "
                                 f"remove one of them (the column is never overridden)")
            table = table.append_column(col, pa.array([str(value)] * table.num_rows, type=pa.string()))
        return table

    def _score_part(self, part: pd.DataFrame, start: int):
        from .scoring import pattern_cache

        try:
            with pattern_cache(self.pattern_cache):  # model patterns of earlier chunks are not recomputed
                return self.fit.score(part.reset_index(drop=True), interval=self.interval)[self._columns], None
        except InputError as exc:
            return None, [p if p.row is None else replace(p, row=p.row + start) for p in exc.problems]

    def _score_new(self, distinct: pd.DataFrame, first_rows: np.ndarray, offset: int):
        n = len(distinct)
        parts = max(1, min(self.threads, n // PARALLEL_MIN_PATTERNS))
        bounds = np.linspace(0, n, parts + 1).astype(int)
        jobs = [(distinct.iloc[a:b], a) for a, b in zip(bounds[:-1], bounds[1:])]
        if parts == 1:
            results = [self._score_part(*jobs[0])]
        else:  # NumPy releases the GIL in the posterior arithmetic, so threads use the cores
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(parts) as pool:
                results = list(pool.map(lambda job: self._score_part(*job), jobs))
        problems = [p for _, probs in results if probs for p in probs]
        if problems:  # renumber: distinct row i is first seen on input row first_rows[i]
            raise InputError([p if p.row is None else replace(p, row=int(offset + first_rows[p.row]))
                              for p in problems])
        scored = results[0][0] if parts == 1 else pd.concat([r for r, _ in results], ignore_index=True)
        return _pa().Table.from_pandas(scored, preserve_index=False)

    def score(self, table, offset: int = 0):
        """``table`` (a pyarrow Table whose first row is input row ``offset``) with the score columns."""
        pa = _pa()
        self.rows += table.num_rows
        table = self._apply_defaults(table)
        if self.replace_scores:
            table = table.drop_columns([c for c in self._columns if c in table.column_names])
        if self.rows == table.num_rows:  # the first chunk: a column named like a score column is refused
            from .errors import Problem

            clash = [c for c in self._columns if c in table.column_names]
            if clash:
                raise InputError([Problem(None, c, None, "the table already has this score column, and scoring "
                                                         "would overwrite it; rename or drop it, or pass --replace-scores "
                                                         "to rescore earlier output") for c in clash])
        keys = [c for c in KEY_COLUMNS + CHECKED_COLUMNS if c in table.column_names]
        code, n_groups = _group_codes(table, keys)
        _, first = np.unique(code, return_index=True)
        distinct = table.select(keys).take(pa.array(first))
        tuples = list(zip(*(distinct[c].to_pylist() for c in keys))) if keys else [()] * n_groups
        pos = np.array([self._keys.get(t, -1) for t in tuples], dtype=np.int64)
        new = np.flatnonzero(pos < 0)
        store = self._store
        if len(new):
            df = distinct.take(pa.array(new)).to_pandas() if keys else pd.DataFrame(index=range(len(new)))
            fresh = self._score_new(df, first[new], offset)
            self.patterns_scored += len(new)
            base = 0 if store is None else store.num_rows
            if base + len(new) <= self.cache_limit:
                store = fresh if store is None else pa.concat_tables([store, fresh], promote_options="permissive")
                self._store = store
                for j, i in enumerate(new):
                    self._keys[tuples[i]] = base + j
                pos[new] = base + np.arange(len(new))
            else:  # cache full: use this chunk's results without remembering them
                store = fresh if store is None else pa.concat_tables([store, fresh], promote_options="permissive")
                pos[new] = base + np.arange(len(new))
        scores = store.take(pa.array(pos[code]))
        out = table.drop_columns([c for c in self._columns if c in table.column_names])
        for c in self._columns:
            out = out.append_column(c, scores[c])
        return out


# --- writing ---------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, sink, fmt: str, provenance: dict, escape: bool = False):
        self.sink, self.fmt, self.prov = sink, fmt, provenance
        self.escape = escape and fmt in ("csv", "jsonl")  # spreadsheets open text formats
        self.schema = None
        self._w = None

    def _conform(self, table):
        if self.schema is None:
            self.schema = table.schema
            return table
        if table.schema.equals(self.schema, check_metadata=False):
            return table.replace_schema_metadata(self.schema.metadata)
        try:
            return table.select(self.schema.names).cast(self.schema)
        except Exception:
            raise InputError(
                "the input's columns change type between chunks (" + ", ".join(
                    f"{f.name}: {self.schema.field(f.name).type if f.name in self.schema.names else 'absent'} then {f.type}"
                    for f in table.schema if f.name not in self.schema.names or f.type != self.schema.field(f.name).type)
                + "); give each column one type, or a larger --chunk-rows") from None

    def write(self, table):
        if self.escape:  # opt-in: cells a spreadsheet would run as formulas get a leading quote
            from .safe_write import escape_formulas

            df = escape_formulas(table.to_pandas(types_mapper={_pa().string(): pd.StringDtype()}.get))
            table = _pa().Table.from_pandas(df, preserve_index=False)
        if self.fmt == "jsonl":
            self._write_jsonl(table)
            return
        if self._w is None and self.fmt == "parquet":  # provenance in the file's key-value metadata
            meta = dict(table.schema.metadata or {})
            meta.pop(b"pandas", None)
            meta[b"assurisk"] = json.dumps(self.prov).encode()
            table = table.replace_schema_metadata(meta)
        table = self._conform(table)
        if self._w is None:
            if self.fmt == "csv":
                import pyarrow.csv as pacsv

                self._w = pacsv.CSVWriter(self.sink, self.schema)
            else:
                import pyarrow.parquet as pq

                self._w = pq.ParquetWriter(self.sink, self.schema)
        self._w.write_table(table)

    def _write_jsonl(self, table):
        # Input keys named like a provenance key (e.g. rescoring earlier output) are replaced, as score columns are.
        table = table.drop_columns([k for k in self.prov if k in table.column_names])
        df = table.to_pandas(types_mapper={_pa().string(): pd.StringDtype()}.get)
        for k, v in self.prov.items():
            df[k] = v
        self.sink.write(df.to_json(orient="records", lines=True, force_ascii=False, double_precision=15).encode())

    def close(self):
        if self._w is not None:
            self._w.close()


def score_stream(source, sink, fit, *, in_fmt: str, out_fmt: str, interval: float = 0.9, defaults=None,
                 chunk_rows: int = CHUNK_ROWS, provenance: dict | None = None, threads: int = 1,
                 escape_formulas: bool = False, replace_scores: bool = False) -> ChunkScorer:
    """Read ``source`` (path, ``-`` or binary stream) chunk by chunk, score, write to the binary ``sink``."""
    from .schema import provenance as make_provenance

    scorer = ChunkScorer(fit, interval, defaults, threads=threads, replace_scores=replace_scores)
    writer = _Writer(sink, out_fmt, provenance or make_provenance(fit, interval), escape_formulas)
    offset = 0
    for chunk in read_chunks(source, in_fmt, chunk_rows):
        if chunk.num_rows == 0:
            continue
        writer.write(scorer.score(chunk, offset))
        offset += chunk.num_rows
    if offset == 0:
        raise InputError("the table has no rows")
    writer.close()
    return scorer


def _is_regular_destination(dest) -> bool:
    import os
    import stat as _stat

    try:
        mode = os.stat(dest).st_mode
    except OSError:
        return True  # a new file
    return _stat.S_ISREG(mode)


def score_file(source, dest, fit, *, in_fmt: str | None = None, out_fmt: str | None = None, interval: float = 0.9,
               defaults=None, chunk_rows: int = CHUNK_ROWS, meta: str | Path | None = None, threads: int = 1,
               escape_formulas: bool = False, replace_scores: bool = False) -> dict:
    """Score a table file (or ``-``) into ``dest`` (or ``-``), atomically for files; returns the sidecar record.

    CSV output gets a sidecar ``<dest>.meta.json`` (or ``meta``) with the provenance; JSON Lines
    carries it on every object; Parquet in its key-value metadata. ``meta`` names a sidecar for any
    format (needed for CSV written to stdout).
    """
    from .safe_write import atomic_write, write_text
    from .schema import provenance, sidecar

    in_fmt = format_of(None if source == STDIO else str(source), in_fmt, "csv" if source == STDIO else None)
    out_fmt = format_of(None if dest == STDIO else str(dest), out_fmt, in_fmt)
    prov = provenance(fit, interval)
    holder = {}

    def run(sink):
        holder["scorer"] = score_stream(source, sink, fit, in_fmt=in_fmt, out_fmt=out_fmt, interval=interval,
                                        defaults=defaults, chunk_rows=chunk_rows, provenance=prov, threads=threads,
                                        escape_formulas=escape_formulas, replace_scores=replace_scores)

    if dest == STDIO:
        out = sys.stdout.buffer
        run(out)
        out.flush()
    else:
        def write(tmp):
            with open(tmp, "wb") as f:
                run(f)

        atomic_write(dest, write)
    scorer = holder["scorer"]
    record = sidecar(fit, interval, rows=scorer.rows, source=str(source), fmt=out_fmt)
    record["patterns_scored"] = scorer.patterns_scored
    if meta is None and out_fmt == "csv" and dest != STDIO and _is_regular_destination(dest):
        meta = f"{dest}.meta.json"  # a pipe or device gets no sidecar beside it (like stdout: ask with --meta)
    if meta is not None:
        write_text(meta, json.dumps(record, indent=2) + "\n")
        record = dict(record, sidecar=str(meta))
    return record
