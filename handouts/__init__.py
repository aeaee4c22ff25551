"""make_handouts: baclofen patient leaflets as PDF and DOCX from YAML sources."""
