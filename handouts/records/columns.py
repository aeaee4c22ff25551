"""Matching a spreadsheet's header row to record fields, as hospitals export them.

A header is matched by its key (`header_key`: case, accents, spacing and punctuation
ignored), against the field names, the built-in French headers (`FRENCH_HEADERS`), and a
hospital's own column map (`--columns MAP.yaml`, `load_column_map`). A first-name column
and a last-name column give `name`, joined with a space.

Columns that match nothing are ignored, listed once in a warning, except a column whose
header looks like a misspelt field that no other column gives: it is an error (with a
"did you mean"), because a silently ignored `emergncy_phone` column would print leaflets
without the emergency number. Header text is untrusted: it is repeated in a message only
once the row is known to be a header row (it has an id column); a file without a header
row has patient values in row 1.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..sources.yamlsource import YamlList, YamlMap, read_yaml
from . import fields
from .validate import ALL_FIELDS

# The headers French hospital exports use for each field (matched by `header_key`).
FRENCH_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("Identifiant", "N° dossier", "Référence"),
    "variant": ("Voie", "Forme", "Variante"),
    "lang": ("Langue",),
    "name": ("Nom", "Nom du patient", "Patient", "Nom prénom", "Nom d'usage"),
    "prescriber": ("Prescripteur", "Médecin prescripteur", "Médecin"),
    "phone": ("Téléphone", "Tél", "Téléphone service"),
    "emergency_phone": ("Téléphone urgence", "Tél urgence", "Numéro d'urgence"),
    "confirm_unusual_values": ("Valeurs inhabituelles confirmées", "Confirmation"),
    "ward": ("Service", "Unité", "UF"),
    "daily_dose_mg": ("Dose (mg/j)", "Dose journalière (mg)"),
    "doses_per_day": ("Prises par jour", "Nombre de prises"),
    "morning_mg": ("Matin (mg)", "Matin"),
    "noon_mg": ("Midi (mg)", "Midi"),
    "evening_mg": ("Soir (mg)", "Soir"),
    "bedtime_mg": ("Coucher (mg)", "Coucher"),
    "titration_steps": ("Paliers d'augmentation", "Titration"),
    "titration_start": ("Début titration", "Date début titration"),
    "titration_start_mg": ("Dose début titration (mg)",),
    "titration_step_mg": ("Palier titration (mg)",),
    "titration_every_days": ("Titration tous les (jours)",),
    "taper_steps": ("Paliers de diminution", "Diminution"),
    "taper_start": ("Début diminution", "Date début diminution"),
    "taper_step_mg": ("Palier diminution (mg)",),
    "taper_every_days": ("Diminution tous les (jours)",),
    "daily_dose_ug": ("Dose (µg/j)", "Dose journalière (µg)"),
    "concentration_ug_per_ml": ("Concentration (µg/mL)", "Concentration"),
    "reservoir_ml": ("Réservoir (mL)", "Volume réservoir (mL)", "Réservoir"),
    "next_refill": ("Date prochain remplissage", "Prochain remplissage"),
    "alarm_date": ("Date alarme", "Alarme", "Date alarme pompe"),
    "last_refill": ("Date dernier remplissage", "Dernier remplissage"),
    "pump_model": ("Modèle de pompe", "Modèle pompe", "Pompe"),
    "pump_clinic_phone": ("Téléphone centre pompe", "Tél centre pompe"),
    "implanting_centre": ("Centre implanteur", "Centre d'implantation"),
    "implant_date": ("Date d'implantation", "Date implantation"),
}
FIRST_NAME_HEADERS = ("Prénom", "Prénom du patient")
JOINABLE = ("name", "prescriber")  # person names, which exports split in two columns
IGNORE = "ignore"
OWN_COLUMNS = ("errors",)  # added by rejected.csv: read back without a warning
FORMULA_STARTS = ("=", "+", "-", "@")


def header_key(text: Any) -> str:
    """`Dose (mg/j)`, `dose mg j` and `DOSE_MG_J` have the same key; so do `µg`, `μg`
    (the Greek letter, which upper-casing µ gives), `ug` and `mcg`."""
    raw = unicodedata.normalize("NFKC", str(text or "")).strip().lstrip("\ufeff").lower()
    raw = re.sub(r"(?<![a-z])(μg|mcg)", "ug", raw)
    plain = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _builtin() -> dict[str, str]:
    keys = {field: field for field in ALL_FIELDS}
    for field, headers in FRENCH_HEADERS.items():
        if field in ALL_FIELDS:
            keys.update((header_key(header), field) for header in headers)
    return keys


BUILTIN = _builtin()
FIRST_NAMES = {header_key(header) for header in FIRST_NAME_HEADERS}


@dataclass(frozen=True)
class ColumnMap:
    """A hospital's own headers: for each field, the header keys that give it (several
    are joined), and headers to ignore without a warning."""

    fields: dict[str, tuple[str, ...]]
    ignore: frozenset[str]
    shown: dict[str, str]  # header key -> where the map names it


@dataclass(frozen=True)
class Header:
    """Which columns give which field; `values` applies it to a row's cells."""

    columns: dict[str, tuple[int, ...]]
    texts: tuple[str, ...]

    def values(self, cells: list[Any]) -> dict[str, Any]:
        """A row's non-empty values by field (joined parts with a space); a text cell
        that rejected.csv neutralised against formulas (`'=...`) is read as typed."""
        found = {}
        for field, indexes in self.columns.items():
            parts = [_typed(cells[i]) if i < len(cells) else None for i in indexes]
            parts = [p for p in parts if p not in ("", None)]
            if len(parts) == 1:
                found[field] = parts[0]
            elif parts:
                found[field] = " ".join(str(p) for p in parts)
        return found


def _typed(value: Any) -> Any:
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


def field_for(text: str, column_map: ColumnMap | None = None) -> str | None:
    """The field a header (or a `--sort-by` value) names, if any."""
    key = header_key(text)
    if column_map is not None:
        for field, keys in column_map.fields.items():
            if key in keys:
                return field
    return BUILTIN.get(key)


def match_header(cells: list[Any], name: str, column_map: ColumnMap | None = None
                 ) -> tuple[Header, list[Problem]]:
    """The header row's meaning and its warnings; InputError if it cannot be used (no
    id column, a field given twice, a probably misspelt field, a mapped header absent)."""
    keys = [header_key(cell) for cell in cells]
    texts = tuple(" ".join(str(cell or "").split()) for cell in cells)
    claimed: dict[int, str] = {}
    joined: dict[str, list[int]] = {}
    problems: list[Problem] = []
    mapped = column_map.fields if column_map else {}
    for field, wanted in mapped.items():
        for key in wanted:
            if key not in keys:
                problems.append(Problem(f"{name}: row 1", f"no column '{key}'",
                                        f"named for '{field}' at {column_map.shown[key]}"))
                continue
            index = keys.index(key)
            claimed[index] = field
            joined.setdefault(field, []).append(index)
    first_names = []
    ignored = column_map.ignore if column_map else frozenset()
    unknown = []
    for index, key in enumerate(keys):
        if index in claimed or not key or key in ignored or key in OWN_COLUMNS:
            continue
        if key in FIRST_NAMES and "name" not in mapped:
            first_names.append(index)
        elif key in BUILTIN and BUILTIN[key] not in mapped:
            claimed[index] = BUILTIN[key]
            joined.setdefault(BUILTIN[key], []).append(index)
        else:
            unknown.append(index)
    for field, indexes in joined.items():
        if len(indexes) > 1 and field not in mapped:
            problems.append(Problem(f"{name}: row 1", f"columns {_listed(indexes)} all give "
                                    f"'{field}'", "keep one, or say which in --columns"))
    if "name" not in mapped and first_names:
        joined["name"] = first_names[:1] + joined.get("name", [])
    if not joined:
        raise InputError(Problem(f"{name}: row 1", "is not a header row: none of its cells "
                                 "names a known column (the values are not shown)",
                                 "the first row names the columns: id, variant, ..."))
    if "id" not in joined:
        # Without an id column, row 1 may be a patient's row: repeat none of it.
        raise InputError([*problems, Problem(f"{name}: row 1", "no 'id' column", "row 1 must "
                          "name the columns; each record needs an id, used to name its files")])
    warnings = []
    for index in unknown:
        close = _close_fields(keys[index])
        if close and not all(field in joined for field in close):
            problems.append(Problem(
                f"{name}: row 1, column {index + 1}",
                f"column {_shown(texts[index])} looks like a misspelt field",
                "did you mean " + " or ".join(f"'{f}'" for f in close)
                + "? rename it, or map or ignore it with --columns"))
        else:
            warnings.append(f"{_shown(texts[index])} (column {index + 1})")
    if problems:
        raise InputError(problems)
    notices = [Problem(f"{name}: row 1", f"{len(warnings)} column{'s' if len(warnings) > 1 else ''} ignored: "
                       + ", ".join(warnings))] if warnings else []
    return Header({field: tuple(indexes) for field, indexes in joined.items()}, texts), notices


def _shown(header: str) -> str:
    """A header as a message may quote it: a long one is described, not repeated."""
    return f"'{header}'" if len(header) <= 40 and header.isprintable() else fields.shown(header)


def _close_fields(key: str) -> list[str]:
    """The fields whose names or French headers a header key is closest to, if it is
    close enough to be a misspelling (difflib ratio 0.8: `daily_dose` but not `nom`)."""
    close = difflib.get_close_matches(key, list(BUILTIN), n=5, cutoff=0.8)
    if not close:
        return []
    best = difflib.SequenceMatcher(None, key, close[0]).ratio()
    return sorted({BUILTIN[c] for c in close
                   if difflib.SequenceMatcher(None, key, c).ratio() == best})


def _listed(indexes: list[int]) -> str:
    return ", ".join(str(i + 1) for i in indexes)


def load_column_map(path: Path, display: str | None = None) -> ColumnMap:
    """A hospital's column map: `field: Header` lines (`name: [Prénom, Nom]` joins
    columns; `ignore: [...]` drops columns without a warning). Every problem is reported
    with its file:line:col."""
    name = display or str(path)
    if not path.is_file():
        raise InputError(Problem(name, "file not found"))
    data = read_yaml(path, name)
    if not isinstance(data, YamlMap) or not data:
        raise InputError(Problem(name, "expected 'field: Header' lines",
                                 "e.g.  name: [Prénom, Nom]"))
    fields: dict[str, tuple[str, ...]] = {}
    ignore: list[str] = []
    shown: dict[str, str] = {}
    problems = []
    for field, value in data.items():
        key_mark = str(data.key_marks[field])
        if field != IGNORE and field not in ALL_FIELDS:
            problems.append(Problem(key_mark, f"unknown field '{field}'",
                                    _suggest_field(str(field))))
            continue
        headers = list(value) if isinstance(value, YamlList) else [value]
        marks = (value.item_marks if isinstance(value, YamlList)
                 else [data.value_marks[field]])
        if len(headers) > 1 and field not in (*JOINABLE, IGNORE):
            problems.append(Problem(str(marks[0]), f"{field}: one column only",
                                    "only " + " and ".join(JOINABLE) + " can join columns"))
            continue
        keys = []
        for header, mark in zip(headers, marks):
            key = header_key(header) if isinstance(header, str) else ""
            if not key:
                problems.append(Problem(str(mark), f"{field}: expected a column header (text)"))
            elif key in shown:
                problems.append(Problem(str(mark), f"{field}: header '{header}' is already "
                                        f"mapped at {shown[key]}"))
            else:
                shown[key] = str(mark)
                keys.append(key)
        if field == IGNORE:
            ignore += keys
        elif not headers:
            problems.append(Problem(key_mark, f"{field}: expected a column header"))
        else:
            fields[field] = tuple(keys)
    if problems:
        raise InputError(problems)
    return ColumnMap(fields, frozenset(ignore), shown)


def _suggest_field(text: str) -> str:
    close = difflib.get_close_matches(text, [*ALL_FIELDS, IGNORE], n=1)
    return f"did you mean '{close[0]}'?" if close else "a record field, or 'ignore'"
