"""The media index (app/i18n/media.json) matches the files in app/static/media.

Covers the BITV 2.0 DGS video rules we can check without ffmpeg: at least
320x240, download size and running time known, WebVTT captions in German and
English, a poster, and generated sample videos openly marked as samples.
Width/height come from the index (written by scripts/make_sample_media.py);
no ffmpeg/ffprobe is needed at test time.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "app" / "static"
MEDIA = STATIC / "media"
INDEX = ROOT / "app" / "i18n" / "media.json"

# Same string as SAMPLE_MARKER in scripts/make_sample_media.py: every file the
# generator writes carries it (WebM title tag, VTT NOTE, PNG comment).
SAMPLE_MARKER = b"jobcenter.digital generated sample media (scripts/make_sample_media.py)"
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WEBP_MAGIC = (b"RIFF", b"WEBP")

BITV_DGS_IDS = {"dgs-angebot", "dgs-navigation", "dgs-barrierefreiheit", "dgs-weitere-inhalte"}
MEDIA_BUDGET = 1_500_000
POSTER_BUDGET = 10_000

TIMING = re.compile(
    r"^(?:(\d{2,}):)?(\d{2}):(\d{2})\.(\d{3}) --> (?:(\d{2,}):)?(\d{2}):(\d{2})\.(\d{3})(?: .*)?$"
)


def load_index() -> list[dict]:
    return json.loads(INDEX.read_text(encoding="utf-8"))


ENTRIES = load_index()


def entry_params():
    return pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])


def static_file(rel: str) -> Path:
    assert not rel.startswith("/") and ".." not in Path(rel).parts, rel
    return STATIC / rel


def all_files(entry: dict) -> list[Path]:
    files = [static_file(entry["poster"])]
    files += [static_file(r["src"]) for r in entry["renditions"]]
    files += [static_file(p) for p in entry["captions"].values()]
    return files


def seconds(h, m, s, ms) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def vtt_cues(path: Path) -> list[tuple[float, float]]:
    cues = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = TIMING.match(line.strip())
        if match:
            g = match.groups()
            cues.append((seconds(*g[:4]), seconds(*g[4:])))
    return cues


def test_index_is_a_list_with_unique_ids():
    assert isinstance(ENTRIES, list) and ENTRIES
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))


def test_bitv_start_page_topics_present():
    dgs = {e["id"] for e in ENTRIES if e["kind"] == "dgs"}
    assert dgs >= BITV_DGS_IDS


@entry_params()
def test_entry_schema(entry):
    assert set(entry) == {
        "id",
        "kind",
        "sample",
        "title",
        "transcript",
        "duration_s",
        "poster",
        "renditions",
        "captions",
    }
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", entry["id"])
    assert entry["kind"] in {"dgs", "explainer"}
    assert isinstance(entry["sample"], bool)
    assert isinstance(entry["title"], str) and entry["title"].strip()
    assert isinstance(entry["transcript"], str) and entry["transcript"].strip()
    # gettext msgids: no python-format surprises.
    assert "%" not in entry["title"] + entry["transcript"]
    assert isinstance(entry["duration_s"], int) and entry["duration_s"] > 0
    assert set(entry["captions"]) >= {"de", "en"}
    assert entry["renditions"]
    for r in entry["renditions"]:
        assert set(r) == {"src", "width", "height", "type", "bytes"}
        assert r["type"] == "video/webm"


@entry_params()
def test_files_exist(entry):
    for path in all_files(entry):
        assert path.is_file(), path


@entry_params()
def test_rendition_bytes_match_and_are_webm(entry):
    for r in entry["renditions"]:
        path = static_file(r["src"])
        assert path.stat().st_size == r["bytes"], r["src"]
        head = path.read_bytes()[:64]
        assert head.startswith(EBML_MAGIC), r["src"]
        assert b"webm" in head, r["src"]  # EBML DocType


@entry_params()
def test_renditions_smallest_first_and_at_least_320x240(entry):
    renditions = entry["renditions"]
    areas = [r["width"] * r["height"] for r in renditions]
    sizes = [r["bytes"] for r in renditions]
    assert areas == sorted(areas)
    assert sizes == sorted(sizes)
    smallest = renditions[0]
    assert smallest["width"] >= 320 and smallest["height"] >= 240


@entry_params()
def test_captions_are_webvtt_within_duration(entry):
    for lang, rel in entry["captions"].items():
        path = static_file(rel)
        assert path.read_bytes().lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"), rel
        cues = vtt_cues(path)
        assert cues, f"{rel}: no cues"
        assert any(end <= entry["duration_s"] for _, end in cues), rel
        for start, end in cues:
            assert 0 <= start < end <= entry["duration_s"], (rel, start, end)
        assert rel.endswith(f".{lang}.vtt")


@entry_params()
def test_poster_small_image(entry):
    path = static_file(entry["poster"])
    assert path.stat().st_size < POSTER_BUDGET
    head = path.read_bytes()[:12]
    assert head.startswith(PNG_MAGIC) or (
        head.startswith(WEBP_MAGIC[0]) and head[8:12] == WEBP_MAGIC[1]
    )


@entry_params()
def test_generated_files_are_marked_as_sample(entry):
    """While any file still comes from the generator, the entry must say sample."""
    generated = [p.name for p in all_files(entry) if SAMPLE_MARKER in p.read_bytes()[:8192]]
    if generated:
        assert entry["sample"] is True, f"generated files {generated} but sample is false"
    else:
        # Real files only: do not label real Jobcenter content as a sample.
        assert entry["sample"] is False, "sample is true but no file carries the marker"


def test_media_folder_within_budget():
    total = sum(p.stat().st_size for p in MEDIA.rglob("*") if p.is_file())
    assert total < MEDIA_BUDGET, total
