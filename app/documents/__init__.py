"""Documents: sanitised evidence uploads (uploads.py) and tagged, accessible PDFs (pdf.py)."""
