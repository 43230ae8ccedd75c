"""Watchlist files in three formats, read into WatchEntity records. A malformed row is reported
with its file and line and skipped, never silently; a file that cannot be read at all is an
error naming it.

- `ofac-sdn`: the US Treasury's SDN list, CSV edition: `sdn.csv` (no header: ent_num, SDN_Name,
  SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks;
  `-0-` is empty) with its aliases in `alt.csv` beside it (ent_num, alt_num, alt_type,
  alt_name, alt_remarks). UTF-8, or Latin-1 as older editions are.
- `ftm`: OpenSanctions / FollowTheMoney entities, one JSON object a line: `id`, `schema`,
  `properties` with lists under `name`, `alias`, `previousName`, `weakAlias`.
- `csv`: a header `id,name,aliases`, aliases separated by `;`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wirewatch.errors import WirewatchError
from wirewatch.records import WatchEntity

FORMATS = ("ofac-sdn", "ftm", "csv")
_OFAC_EMPTY = "-0-"
_SDN_COLUMNS = 12
_ALT_COLUMNS = 5


class WatchlistError(WirewatchError):
    """A watchlist file that cannot be read at all."""


@dataclass
class LoadedList:
    entities: list[WatchEntity] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one line each: file:line: what is wrong

    @property
    def names(self) -> int:
        return len(self.entities)

    @property
    def aliases(self) -> int:
        return sum(len(e.aliases) + len(e.weak_aliases) for e in self.entities)


def load_watchlist(path: Path, list_format: str, list_name: str | None = None) -> LoadedList:
    """Every entity of the file; rows that cannot be read are in `problems`."""
    if list_format not in FORMATS:
        raise WatchlistError(
            f"{path}: unknown watchlist format {list_format!r} (one of {', '.join(FORMATS)})"
        )
    name = list_name or path.stem
    if list_format == "ofac-sdn":
        return _load_ofac(path, name)
    if list_format == "ftm":
        return _load_ftm(path, name)
    return _load_csv(path, name)


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WatchlistError(f"{path}: cannot read the watchlist ({exc.strerror or exc})") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # older SDN editions


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(csv.reader(io.StringIO(_text(path))), start=1):
        if row and any(cell.strip() for cell in row):
            yield number, row


def _ofac_value(cell: str) -> str:
    cell = cell.strip()
    return "" if cell == _OFAC_EMPTY else cell


def _load_ofac(path: Path, list_name: str) -> LoadedList:
    loaded = LoadedList()
    names: dict[str, tuple[str, str]] = {}
    for line, row in _rows(path):
        if len(row) < _SDN_COLUMNS - 1 or not row[0].strip().isdigit() or not _ofac_value(row[1]):
            loaded.problems.append(f"{path}:{line}: not an SDN row (ent_num, SDN_Name, SDN_Type, ...)")
            continue
        names[row[0].strip()] = (_ofac_value(row[1]), _ofac_value(row[2]) or "entity")
    aliases: dict[str, list[str]] = {}
    alt = next((p for p in (path.with_name("alt.csv"), path.with_name("ALT.CSV")) if p.exists()), None)
    if alt is not None:
        for line, row in _rows(alt):
            if len(row) < _ALT_COLUMNS - 1 or not row[0].strip().isdigit() or not _ofac_value(row[3]):
                loaded.problems.append(
                    f"{alt}:{line}: not an alias row (ent_num, alt_num, alt_type, alt_name)"
                )
                continue
            if row[0].strip() not in names:
                loaded.problems.append(f"{alt}:{line}: alias of ent_num {row[0].strip()}, not in {path.name}")
                continue
            aliases.setdefault(row[0].strip(), []).append(_ofac_value(row[3]))
    for entity_id, (name, kind) in names.items():
        loaded.entities.append(
            WatchEntity(list_name, entity_id, name, kind.lower(), tuple(aliases.get(entity_id, ())))
        )
    return loaded


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def _load_ftm(path: Path, list_name: str) -> LoadedList:
    loaded = LoadedList()
    for line, text in enumerate(_text(path).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            loaded.problems.append(f"{path}:{line}: not JSON ({exc.msg})")
            continue
        props = data.get("properties") if isinstance(data, dict) else None
        names = _strings(props.get("name")) if isinstance(props, dict) else []
        if not isinstance(data, dict) or not data.get("id") or not names or not isinstance(props, dict):
            loaded.problems.append(f"{path}:{line}: an entity needs an id and properties.name")
            continue
        aliases = names[1:] + _strings(props.get("alias")) + _strings(props.get("previousName"))
        loaded.entities.append(
            WatchEntity(
                list_name,
                str(data["id"]),
                names[0],
                str(data.get("schema") or "Thing").lower(),
                tuple(aliases),
                tuple(_strings(props.get("weakAlias"))),
            )
        )
    return loaded


def _load_csv(path: Path, list_name: str) -> LoadedList:
    loaded = LoadedList()
    rows = _rows(path)
    header = next(rows, None)
    cells = [c.strip().lower() for c in header[1]] if header else []
    if cells[:2] != ["id", "name"] or cells[2:3] not in ([], ["aliases"]):
        raise WatchlistError(f"{path}: a csv watchlist starts with the header id,name,aliases")
    for line, row in rows:
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            loaded.problems.append(f"{path}:{line}: a row needs an id and a name")
            continue
        aliases = tuple(a.strip() for a in (row[2] if len(row) > 2 else "").split(";") if a.strip())
        loaded.entities.append(WatchEntity(list_name, row[0].strip(), row[1].strip(), "", aliases))
    return loaded
