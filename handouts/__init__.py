"""make_handouts: baclofen patient leaflets as PDF and DOCX from YAML sources."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
