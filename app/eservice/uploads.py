"""File fields: sanitise each upload, store it, and hand the engine a small value."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from quart import current_app, request

from app.db import documents as document_repo
from app.documents.uploads import DocumentStore, UploadRejected, sanitise_upload
from app.flows import engine
from app.flows.model import Issue
from app.i18n import N_

MESSAGES = {
    "empty": N_("Die Datei ist leer. Bitte wählen Sie eine andere Datei aus."),
    "too_large": N_("Die Datei ist größer als 10 MB. Bitte wählen Sie eine kleinere Datei aus."),
    "type": N_("Bitte laden Sie nur PDF-, JPG- oder PNG-Dateien hoch."),
    "pdf_active_content": N_(
        "Diese PDF-Datei enthält aktive Inhalte und kann nicht angenommen werden. Bitte "
        "speichern Sie sie neu oder scannen Sie das Dokument ein."
    ),
    "pdf_encrypted": N_(
        "Diese PDF-Datei ist mit einem Passwort geschützt. Bitte laden Sie eine "
        "Datei ohne Passwort hoch."
    ),
    "pdf_broken": N_("Diese PDF-Datei lässt sich nicht öffnen. Bitte prüfen Sie die Datei."),
    "image_broken": N_("Dieses Bild lässt sich nicht öffnen. Bitte prüfen Sie die Datei."),
    "image_too_many_pixels": N_("Dieses Bild ist zu groß. Bitte verkleinern Sie es."),
}


def store() -> DocumentStore:
    return DocumentStore(Path(current_app.config["SETTINGS"].data_dir) / "documents")


async def handle(step: engine.Step, draft: Any, owner_key: str) -> dict[str, Any]:
    """For each visible file field with a chosen file: a stored-file value or an Issue."""
    if step.page is None or not any(f.type == "file" for f in step.page.fields):
        return {}
    files = await request.files
    results: dict[str, Any] = {}
    limit = current_app.config["SETTINGS"].upload_max_bytes
    for f in step.visible_fields():
        if f.type != "file":
            continue
        upload = files.get(f.id)
        if upload is None or not upload.filename:
            continue
        data = upload.read(limit + 1)
        try:
            if len(data) > limit:
                raise UploadRejected("too_large")
            clean = await asyncio.to_thread(sanitise_upload, data, upload.filename)
        except UploadRejected as rejected:
            results[f.id] = Issue(f.id, MESSAGES.get(rejected.code, MESSAGES["type"]))
            continue
        key = await asyncio.to_thread(store().save, clean)
        document_id = await document_repo.add(
            current_app.config["DB"],
            owner_key=owner_key,
            draft_id=draft.id,
            storage_key=key,
            display_name=clean.display_name,
            media_type=clean.media_type,
            size=len(clean.content),
            sha256=clean.sha256,
        )
        results[f.id] = {
            "status": "uploaded",
            "document_id": document_id,
            "name": clean.display_name,
            "size": len(clean.content),
            "media_type": clean.media_type,
            "sha256": clean.sha256,
        }
    return results
