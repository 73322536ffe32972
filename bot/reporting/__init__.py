"""Quarterly summaries: compiling the figures and exporting them (CSV, XLSX, DOCX)."""
