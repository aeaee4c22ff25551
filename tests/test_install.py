"""The tool as a hospital's IT team installs it: a wheel built from this repository,
installed in a fresh virtual environment outside the checkout, run from empty folders.
The wheel's dependencies come from the test environment (a .pth line), which keeps the
test fast and offline; `pip check` still verifies the wheel's requirements."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import pdf_text

REPO = Path(__file__).resolve().parent.parent
OWN_NAME, OWN_PHONE = "Centre hospitalier de Test", "01 99 00 42 42"


def run(*command, cwd: Path | None = None, env: dict | None = None
        ) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh virtual environment with only the wheel installed in it."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    shutil.copy2(REPO / "pyproject.toml", source)
    for name in ("handouts", "sources", "layouts", "examples"):
        shutil.copytree(REPO / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "--no-index", "--disable-pip-version-check", "-w", work / "dist", source)
    [wheel] = (work / "dist").glob("make_handouts-*.whl")
    target = work / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", target)
    purelib = Path(run(target / "bin" / "python", "-c",
                       "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", target / "bin" / "python", "install", "-q",
        "--no-deps", "--no-index", "--disable-pip-version-check", wheel)
    return target


@pytest.fixture
def env() -> dict:
    """The environment of a shell outside the checkout, on the example day."""
    variables = {k: v for k, v in os.environ.items()
                 if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    epoch = dt.datetime.combine(dt.date(2027, 1, 4), dt.time(12), dt.UTC).timestamp()
    variables["SOURCE_DATE_EPOCH"] = str(int(epoch))
    return variables


def test_the_package_and_its_requirements_come_from_the_venv(venv, env, tmp_path):
    located = run(venv / "bin" / "python", "-c", "import handouts; print(handouts.__file__)",
                  cwd=tmp_path, env=env).stdout
    assert located.startswith(str(venv)) and str(REPO) not in located
    run(venv / "bin" / "python", "-m", "pip", "check", cwd=tmp_path, env=env)


def test_the_default_build_from_an_empty_folder(venv, env, tmp_path):
    result = run(venv / "bin" / "make_handouts", cwd=tmp_path, env=env)
    written = result.stdout.splitlines()
    assert len(written) == 2 * (2 + 3) * 2  # languages x (oral + pump documents) x formats
    assert "output/fr/baclofen-oral-leaflet.pdf" in written
    assert "output/en/baclofen-intrathecal-card.docx" in written
    assert "01 99 00 12 34" in pdf_text(tmp_path / "output/fr/baclofen-oral-leaflet.pdf")
    assert [p.name for p in tmp_path.iterdir()] == ["output"]


def test_init_then_build_the_project_with_its_own_phone(venv, env, tmp_path):
    tool = venv / "bin" / "make_handouts"
    run(tool, "init", "chu", "--lang", "fr", cwd=tmp_path, env=env)
    project = tmp_path / "chu"
    profile = project / "sources" / "hospital.yaml"
    text = profile.read_text(encoding="utf-8")
    text = text.replace('team_phone: "01 99 00 12 34"', f'team_phone: "{OWN_PHONE}"')
    text = text.replace('name: "Hôpital Exemple (établissement fictif)"', f'name: "{OWN_NAME}"')
    profile.write_text(text, encoding="utf-8")

    built = run(tool, "--variant", "oral", cwd=project, env=env)
    assert built.stderr == ""
    leaflet = pdf_text(project / "output/fr/baclofen-oral-leaflet.pdf")
    assert OWN_PHONE in leaflet and OWN_NAME in leaflet and "01 99 00 12 34" not in leaflet

    patient = run(tool, "patient", "examples/pump-patient.yaml", "--format", "pdf",
                  cwd=project, env=env)
    card = project / "output/EX-PUMP-1/EX-PUMP-1-baclofen-intrathecal-card-fr.pdf"
    assert str(card.relative_to(project)) in patient.stdout.splitlines()
    assert "SynchroMed II" in pdf_text(card) and OWN_NAME in pdf_text(card)

    checked = run(tool, "check", cwd=project, env=env)
    assert checked.stderr.splitlines() == ["check: 0 errors, 0 warnings"]


def test_version_and_python_m_help(venv, env, tmp_path):
    version = run(venv / "bin" / "make_handouts", "--version", cwd=tmp_path, env=env).stdout
    assert version.startswith("make_handouts 0.1.0 (WeasyPrint ")
    assert "python-docx " in version
    helped = run(venv / "bin" / "python", "-m", "handouts", "--help", cwd=tmp_path, env=env)
    assert helped.stdout.startswith("usage: python -m handouts [COMMAND] [OPTIONS]")
    for command in ("batch", "check", "init", "patient", "translations"):
        assert f"\n  {command} " in helped.stdout
    assert not list(tmp_path.iterdir())


def test_the_installed_built_in_sources_are_never_changed(venv, env, tmp_path):
    result = subprocess.run([venv / "bin" / "make_handouts", "check", "--accept", "en"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    sources = run(venv / "bin" / "python", "-c", "from handouts.project import EMBEDDED; "
                  "print(EMBEDDED.sources_dir)", cwd=tmp_path, env=env).stdout.strip()
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        (f"{sources}: the built-in sources belong to the installed package and are never "
        "changed (start a project with 'make_handouts init DIR' and run this inside it)")]
