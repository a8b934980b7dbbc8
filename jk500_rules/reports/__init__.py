"""Reports: text, JSON, CSV, HTML, SDTM DV, provenance, comparison and the traceability matrix."""
