"""The command line: a thin layer over the public functions. Errors become one line
each on stderr and an exit code here, and nowhere else: 0 all good, 1 the work ran but
some items failed, 2 unusable input or usage."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import textwrap
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import weasyprint
from weasyprint.text.ffi import pango

from .build import FORMATS, build_generic, build_patient, write_all
from .bulk.batch import PrintOptions, run_batch
from .compose import VARIANTS
from .errors import HandoutsError, InputError, Problem, RecordDoesNotFit
from .output import write_atomic
from .project import (
    CONFIG_NAME,
    EMBEDDED,
    find_project,
    init_project,
    load_project,
    writable_sources,
)
from .records.columns import load_column_map
from .records.validate import read_patient_file, validate_record
from .render.pdf import LAYOUTS
from .sources.loading import available_languages, display_path, dose_rules, load_sources
from .translate.check import accept, check_sources, plan_acceptance
from .translate.newlang import new_language
from .translate.po import export_po, import_po
from .translate.xliff import export_xliff, import_xliff

DEFAULT_OUT = Path("output")


def program_name() -> str:
    """The command as the user typed it, for help and hints: `make_handouts`,
    `make_handouts.py`, or `python -m handouts`."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if main_spec is not None and main_spec.parent:
        return f"python -m {main_spec.parent}"
    return Path(sys.argv[0]).name or "make_handouts"


def version_text() -> str:
    """`--version`: this tool's version and the libraries a bug report needs."""
    def installed(distribution: str) -> str:
        try:
            return version(distribution)
        except PackageNotFoundError:
            return "not installed"
    major, minor, micro = (pango.pango_version() // 10000, pango.pango_version() // 100 % 100,
                           pango.pango_version() % 100)
    return (f"make_handouts {installed('make_handouts')} (WeasyPrint "
            f"{weasyprint.__version__}, Pango {major}.{minor}.{micro}, python-docx "
            f"{installed('python-docx')}, Python {platform.python_version()})")


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(Problem(str(out), "--out is a file, not a folder",
                                 "give a folder (it is created if missing)"))


def _print_paths(paths: list[Path]) -> None:
    for path in paths:
        print(display_path(path.resolve()))


def _sources_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, metavar="DIR",
                        help="the hospital project folder to use (default: the one the current "
                             f"folder is in, found by its {CONFIG_NAME}; outside one, the "
                             "built-in example)")
    parser.add_argument("--sources", type=Path, metavar="DIR",
                        help="folder of the YAML sources (default: the project's, or the "
                             "built-in ones)")


def _parse_args(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse, then settle where the sources and layouts come from: --sources, else the
    project (--project, else the one the current folder is in), else the built-in ones."""
    args = parser.parse_args(argv)
    args.project = load_project(args.project) if args.project else find_project(Path.cwd())
    args.sources = args.sources or args.project.sources_dir
    args.layouts_dir = args.project.layouts_dir
    return args


def _print_warnings(problems: Sequence[Problem]) -> None:
    for problem in problems:
        print(f"{problem.where}: warning: {problem.message}"
              + (f" ({problem.hint})" if problem.hint else ""), file=sys.stderr)


def _common(parser: argparse.ArgumentParser) -> None:
    _sources_option(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="output folder (default: output/ in the current folder)")
    parser.add_argument("--format", choices=FORMATS, action="append", dest="formats",
                        help="only this format (repeatable; default: pdf and docx)")
    parser.add_argument("--layout", choices=LAYOUTS, default="standard",
                        help="page layout: standard A4 or large print (default: standard)")


def _build_parser() -> argparse.ArgumentParser:
    program = program_name()
    description = ("Build the generic baclofen leaflets, withdrawal inserts and pump card "
                   "(every language and variant, PDF and DOCX) into output/ in the current "
                   "folder, or run one of the commands below.")
    parser = argparse.ArgumentParser(
        prog=program, usage=f"{program} [COMMAND] [OPTIONS]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(description, 78), epilog=_commands_help(program))
    parser.add_argument("--version", action="version", version=version_text(),
                        help="show the version of make_handouts, WeasyPrint, Pango and "
                             "python-docx, and exit")
    _common(parser)
    parser.add_argument("--lang", action="append", dest="langs", metavar="LANG",
                        help="only this language (repeatable; default: every language in sources/)")
    parser.add_argument("--variant", choices=VARIANTS, action="append", dest="variants",
                        help="only this variant (repeatable; default: both)")
    _allow_incomplete_option(parser)
    return parser


def _allow_incomplete_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="build a translation with errors or strings to review anyway, "
                             "printing the French text where it is missing, wrong or not "
                             "reviewed (each fallback is printed on stderr); without it, such a "
                             "language's documents are not built and the others are (exit 1)")


def _commands_help(program: str) -> str:
    """The top-level help's list of commands: the first line of each command's docstring."""
    lines = ["commands:"]
    entries = [("(none)", "build the generic documents (the options above)")]
    for name, command in COMMANDS.items():
        summary = command.__doc__.splitlines()[0].rstrip(".")
        entries.append((name, summary[0].lower() + summary[1:]))
    for name, summary in entries:
        lines += textwrap.wrap(summary, 78, initial_indent=f"  {name:<14}",
                               subsequent_indent=" " * 16)
    lines += ["", f"'{program} COMMAND --help' describes a command and its options."]
    return "\n".join(lines)


def run_build(argv: Sequence[str]) -> int:
    args = _parse_args(_build_parser(), argv)
    refused: dict[str, list[Problem]] = {}
    sources = load_sources(args.sources, args.langs, args.allow_incomplete, refused=refused)
    if refused and not sources.languages:
        raise InputError([p for problems in refused.values() for p in problems])
    _print_warnings([*args.project.warnings(), *sources.notices])
    langs = [lang for lang in args.langs or available_languages(args.sources)
             if lang not in refused]
    paths = build_generic(sources, args.out, langs, args.variants or list(VARIANTS),
                          args.formats or list(FORMATS), args.layout, args.layouts_dir)
    _print_paths(paths)
    for problem in (p for problems in refused.values() for p in problems):
        print(problem, file=sys.stderr)
    return 1 if refused else 0


def run_check(argv: Sequence[str]) -> int:
    """Check the sources and translations (or --accept a review)."""
    parser = argparse.ArgumentParser(
        prog=f"{program_name()} check",
        description="Check the sources: YAML mistakes, missing/extra/empty keys against the "
                    "French, placeholders, markup, numbers, units, phone numbers and URLs that "
                    "differ, unit words, numbers paired with their units, lost negations, strings "
                    "to review (changed since a reviewer accepted them, shown as word diffs), "
                    "and whether each insert and card still fits (by rendering). Errors first, "
                    "then warnings; exit 1 if any error. With --accept LANG [KEY...], record "
                    "that a reviewer accepted those strings as they are now (every string to "
                    "review when no KEY is given); add --dry-run to see them first.")
    _sources_option(parser)
    parser.add_argument("--lang", action="append", dest="langs", metavar="LANG",
                        help="only this language (repeatable; default: all)")
    parser.add_argument("--accept", metavar="LANG", help="accept LANG's strings against the "
                        "current French")
    parser.add_argument("keys", nargs="*", metavar="KEY", help="with --accept: the key paths")
    parser.add_argument("--dry-run", action="store_true", help="with --accept: print each "
                        "string that would be accepted (French and translation, with what "
                        "changed since last accepted) and write nothing")
    parser.add_argument("--no-fit", action="store_true", help="skip the rendering fit checks")
    args = _parse_args(parser, argv)
    if (args.keys or args.dry_run) and not args.accept:
        parser.error("KEY arguments and --dry-run need --accept LANG")
    if args.accept:
        return _accept(args.sources, args.accept, args.keys, args.dry_run)
    report = check_sources(args.sources, args.langs, fit=not args.no_fit,
                           layouts_dir=args.layouts_dir)
    for problem in report.errors:
        print(problem, file=sys.stderr)
    for problem in report.warnings:
        print(f"{problem.where}: warning: {problem.message}", file=sys.stderr)
    project_warnings = args.project.warnings()
    _print_warnings(project_warnings)
    print(f"check: {len(report.errors)} errors, "
          f"{len(report.warnings) + len(project_warnings)} warnings", file=sys.stderr)
    return 1 if report.errors else 0


def _accept(sources_dir: Path, lang: str, keys: list[str], dry_run: bool) -> int:
    """`check --accept`: print what is (or would be) accepted; exit 1 if some string
    asked for cannot be accepted."""
    if dry_run:
        acceptance = plan_acceptance(sources_dir, lang, keys)
        for review in acceptance.reviews:
            print("\n".join(review.lines()))
    else:
        acceptance = accept(writable_sources(sources_dir), lang, keys)
        _print_paths([acceptance.written] if acceptance.written else [])
    for problem in acceptance.refused:
        print(problem, file=sys.stderr)
    verb = "would accept" if dry_run else "accepted"
    print(f"check: {verb} {len(acceptance.reviews)} '{lang}' strings, "
          f"{len(acceptance.refused)} not accepted", file=sys.stderr)
    return 1 if acceptance.refused else 0


def run_patient(argv: Sequence[str]) -> int:
    """One patient's leaflet, insert and wallet card, from a record."""
    parser = argparse.ArgumentParser(
        prog=f"{program_name()} patient",
        description="Build one patient's leaflet, withdrawal insert and (pump) wallet card, "
                    "PDF and DOCX, in the patient's language, into OUT/<id>/. The record's "
                    "fields are described in README.md.")
    parser.add_argument("file", type=Path, metavar="FILE.yaml", help="the patient record")
    _common(parser)
    _allow_incomplete_option(parser)
    args = _parse_args(parser, argv)
    if not args.file.is_file():
        raise InputError(Problem(str(args.file), "file not found"))
    patient = validate_record(read_patient_file(args.file, str(args.file)),
                              available_languages(args.sources), rules=dose_rules(args.sources))
    sources = load_sources(args.sources, [patient.lang], args.allow_incomplete)
    _print_warnings([*args.project.warnings(), *sources.notices])
    _check_out(args.out)
    try:
        results = build_patient(sources, patient, args.out, args.formats or list(FORMATS),
                                args.layout, args.layouts_dir)
    except RecordDoesNotFit as error:
        raise InputError([Problem(str(args.file), p.message, p.hint)
                          for p in error.problems]) from None
    _print_paths(write_all(results))
    return 0


EXCHANGE_FORMATS = {"xliff": (".xlf", export_xliff, import_xliff),
                    "po": (".po", export_po, import_po)}


def run_translations(argv: Sequence[str]) -> int:
    """Start a language; export or import XLIFF or PO files."""
    parser = argparse.ArgumentParser(
        prog=f"{program_name()} translations",
        description="Work with translators: start a language, and round trip through XLIFF "
                    "1.2 (OmegaT, memoQ, Trados, Phrase) or gettext PO (Weblate, Poedit).")
    commands = parser.add_subparsers(dest="action", required=True, help="what to do")
    export = commands.add_parser(
        "export", help="write OUT/translations/baclofen-LANG.xlf (or .po): the French source, "
                       "the current translation, its review state (reviewed, to review, "
                       "untranslated), the translator comments, and the previous French of "
                       "strings whose French changed")
    export.add_argument("--lang", required=True, metavar="LANG",
                        help="the language to translate, e.g. en")
    export.add_argument("--format", choices=EXCHANGE_FORMATS, default="xliff",
                        help="xliff (XLIFF 1.2, the default) or po (gettext)")
    export.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help="output folder (default: output/ in the current folder)")
    _sources_option(export)
    merge = commands.add_parser(
        "import", help="merge a translated .xlf or .po file back into sources/LANG.yaml, "
                       "keeping comments and order; refused whole if any placeholder, bold, "
                       "number, unit or phone number differs from the French. Imported "
                       "strings are to review until accepted (check --accept)")
    merge.add_argument("file", type=Path, metavar="FILE",
                       help="the .xlf, .xliff or .po file the translator returned")
    merge.add_argument("--lang", metavar="LANG", help="the file's language, when it does "
                       "not say (a PO file without a Language header)")
    _sources_option(merge)
    new = commands.add_parser(
        "new", help="start a language: sources/LANG.yaml with every key of the French, every "
                    "text empty (untranslated), and sources/accepted/LANG.json")
    new.add_argument("--lang", required=True, metavar="LANG",
                     help="the new language's code, e.g. pt")
    _sources_option(new)
    args = _parse_args(parser, argv)
    if args.action == "export":
        suffix, exporter, _ = EXCHANGE_FORMATS[args.format]
        path = args.out / "translations" / f"baclofen-{args.lang}{suffix}"
        write_atomic(path, exporter(args.sources, args.lang))
        _print_paths([path])
        return 0
    if args.action == "new":
        _print_paths(new_language(writable_sources(args.sources), args.lang))
        print(f"translations: '{args.lang}' started; next: translate it (translations export "
              f"--lang {args.lang}), import, review and accept (check --accept {args.lang}), "
              f"and add its service name to sources/hospital.yaml", file=sys.stderr)
        return 0
    importer = import_po if args.file.suffix.lower() == ".po" else import_xliff
    result = importer(writable_sources(args.sources), args.file, str(args.file), args.lang)
    if result.changed:
        _print_paths([result.path])
    for problem in result.empty:
        print(problem, file=sys.stderr)
    lang = result.path.stem
    print(f"translations: {len(result.changed)} strings changed, {len(result.empty)} without "
          f"a translation; changed strings are to review: see them with {program_name()} "
          f"check --accept {lang} --dry-run, then accept them", file=sys.stderr)
    return 1 if result.empty else 0


def run_batch_command(argv: Sequence[str]) -> int:
    """Many patients from a spreadsheet, with one combined print PDF."""
    parser = argparse.ArgumentParser(
        prog=f"{program_name()} batch",
        description="Build every record of a spreadsheet (CSV with , ; or tab, UTF-8 or "
                    "Windows-1252; XLSX, XLS, ODS) or a YAML list: each record's files as "
                    "'patient' makes them, one combined print-ready PDF (a separator sheet and "
                    "a bookmark per record), manifest.json and rejected.csv (the refused rows, "
                    "with their errors, for the ward). Every row is built or reported: bad rows "
                    "are reported and skipped (exit 1); columns that are not record fields are "
                    "ignored (one warning); records already up to date are skipped.")
    parser.add_argument("file", type=Path, metavar="FILE",
                        help=".csv, .xlsx, .xls, .ods or .yaml")
    _common(parser)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="worker processes (default: one per core)")
    parser.add_argument("--sort-by", metavar="COLUMN",
                        help="order of the combined PDF: a field or a header of the file, "
                             "e.g. Service or ward; default: file order")
    parser.add_argument("--force", action="store_true", help="rebuild records already up to date")
    parser.add_argument("--columns", type=Path, metavar="MAP.yaml",
                        help="the file's own headers for each field, e.g. 'name: [Prénom, Nom]' "
                             "(see README); French headers are known without it")
    parser.add_argument("--split-by", choices=["ward"],
                        help="one print file per ward instead of one for the whole batch")
    parser.add_argument("--band", action="store_true",
                        help="mark each record with a band on its first page instead of a "
                             "separator sheet")
    _allow_incomplete_option(parser)
    args = _parse_args(parser, argv)
    _print_warnings(args.project.warnings())
    out = args.out if args.out != DEFAULT_OUT else DEFAULT_OUT / args.file.stem
    _check_out(out)
    column_map = load_column_map(args.columns, str(args.columns)) if args.columns else None
    outcome = run_batch(args.file, out, args.sources, args.formats or list(FORMATS), args.layout,
                        max(1, args.jobs), args.sort_by, args.force, display=str(args.file),
                        layouts_dir=args.layouts_dir, column_map=column_map,
                        allow_incomplete=args.allow_incomplete,
                        arrange=PrintOptions(split_by_ward=args.split_by == "ward",
                                             band=args.band))
    _print_paths(outcome.written)
    _print_warnings(outcome.notices)
    for problem in outcome.language_problems:
        print(problem, file=sys.stderr)
    for result in outcome.results:
        for error in result.errors:
            print(error, file=sys.stderr)
    failed = sum(r.status == "error" for r in outcome.results)
    skipped = sum(r.skipped for r in outcome.results)
    print(f"batch: {len(outcome.results)} rows read, {len(outcome.results) - failed} built "
          f"({skipped} already up to date), {failed} refused", file=sys.stderr)
    return outcome.exit_code


def run_init(argv: Sequence[str]) -> int:
    """Start a hospital's project folder to edit (like 'mkdocs new')."""
    parser = argparse.ArgumentParser(
        prog=f"{program_name()} init",
        description=f"Write a new project folder DIR: {CONFIG_NAME} (what the project "
                    "replaces), sources/ (a copy of the built-in hospital profile, document "
                    "ids and texts, to edit; start with sources/hospital.yaml) and, with "
                    "--layouts, layouts/. Every command run inside DIR then uses it. DIR must "
                    "not exist or be empty.")
    parser.add_argument("dir", type=Path, metavar="DIR", help="the folder to create")
    parser.add_argument("--lang", action="append", dest="langs", metavar="LANG",
                        help="copy only this language's texts besides the French reference "
                             "(repeatable; default: every built-in language)")
    parser.add_argument("--layouts", action="store_true",
                        help="also copy the templates and style sheets, to change the layout")
    args = parser.parse_args(argv)
    _print_paths(init_project(args.dir, args.langs, args.layouts,
                              available_languages(EMBEDDED.sources_dir)))
    print(f"init: edit {display_path(args.dir / 'sources' / 'hospital.yaml')}, then run "
          f"{program_name()} in {display_path(args.dir)}", file=sys.stderr)
    return 0


def run_serve(argv: Sequence[str]) -> int:
    """The clinician web app: a form in the browser for one patient."""
    parser = argparse.ArgumentParser(
        prog=f"{program_name()} serve",
        description="The clinician web app: a form in the browser (French or English) for one "
                    "patient, prefilled from FHIR or a YAML record, checked like 'patient', "
                    "with a preview and the same files to download. Nothing is stored. "
                    "Listens on 127.0.0.1 only unless --host says otherwise; then put it "
                    "behind the hospital's authenticating reverse proxy (see README).")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="render processes kept warm (default: one per core, at most 4)")
    parser.add_argument("--render-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="a render taking longer is stopped (default: 30)")
    _sources_option(parser)
    args = _parse_args(parser, argv)
    _print_warnings(args.project.warnings())
    from .web.server import serve  # the web stack loads only for this command

    return serve(args.host, args.port, args.sources, args.layouts_dir, args.workers,
                 args.render_timeout)


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"batch": run_batch_command,
                                                        "check": run_check,
                                                        "init": run_init,
                                                        "patient": run_patient,
                                                        "serve": run_serve,
                                                        "translations": run_translations}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: `make_handouts [COMMAND] [OPTIONS]`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = COMMANDS.get(argv[0]) if argv else None
    if hasattr(signal, "SIGXFSZ"):  # `ulimit -f`: a write error we report, not a kill
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    try:
        if command is not None:
            return command(argv[1:])
        return run_build(argv)
    except HandoutsError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"{error.filename or 'make_handouts'}: {error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
