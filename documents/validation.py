"""What may be uploaded, decided by the content, not the name.

Allowed: PDF, PNG, JPEG, Word/Excel/PowerPoint (OOXML: a zip with the parts such a
document has, no macros), CSV and plain text (valid UTF-8, no NUL bytes). Refused:
everything else, HTML/SVG/XML, files whose first kilobyte holds markup a browser
could take for a page (polyglots), PDFs that cannot be read or that run scripts, launch
programs, carry attachments and the like (parsed and walked: documents/pdfscan.py), and
names whose extension does not match the content.
"""

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from .pdfscan import pdf_refusal

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
CSV = "text/csv"
TEXT = "text/plain"

# content type -> (what people call it, accepted extensions; the first is canonical)
ALLOWED = {
    PDF: ("a PDF", (".pdf",)),
    PNG: ("a PNG image", (".png",)),
    JPEG: ("a JPEG image", (".jpg", ".jpeg")),
    DOCX: ("a Word document", (".docx",)),
    XLSX: ("an Excel workbook", (".xlsx",)),
    PPTX: ("a PowerPoint presentation", (".pptx",)),
    CSV: ("a CSV file", (".csv",)),
    TEXT: ("a text file", (".txt",)),
}
ACCEPT = ",".join(ext for _, exts in ALLOWED.values() for ext in exts)
KINDS_LABEL = "PDF, Word, Excel, PowerPoint, PNG, JPEG, CSV or plain text"

OOXML_MAIN_PART = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
# Markup a browser could render as a page or script, wherever it sits in the first KB.
MARKUP = re.compile(
    rb"<\s*(?:html|head|body|script|svg|iframe|object|embed|meta|link|style|img|a\s|"
    rb"!doctype|\?xml|xml|form|base|frameset|math)",
    re.IGNORECASE,
)
SNIFF_BYTES = 1024
HEAD_BYTES = 8192


class UploadRejected(ValueError):
    """The file cannot be accepted; the message says why, for the person uploading."""


@dataclass(frozen=True)
class Checked:
    content_type: str
    extension: str
    size: int
    sha256: str
    name: str


def clean_name(raw, extension):
    """A display name safe anywhere: no folders, no control or direction characters,
    only ordinary punctuation, at most 120 characters before the extension."""
    name = unicodedata.normalize("NFKC", str(raw or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = re.sub(r"[^\w .,()+&@'-]", "_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" ._-")[:120].strip(" ._-")
    return f"{stem or 'document'}{extension}"


def _extension(name):
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().lower()
    return "." + name.rsplit(".", 1)[1] if "." in name else ""


def _read_all(upload):
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _ooxml_type(upload):
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadRejected("This archive is damaged or not an Office document.") from None
    finally:
        upload.seek(0)
    if "[Content_Types].xml" not in names:
        raise UploadRejected("Zip files are not accepted; upload the documents themselves.")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise UploadRejected("Office files with macros are not accepted; save it without them.")
    for part, content_type in OOXML_MAIN_PART.items():
        if part in names:
            return content_type
    raise UploadRejected("Zip files are not accepted; upload the documents themselves.")


def _text_type(data, extension):
    if b"\x00" in data:
        raise UploadRejected(f"This kind of file is not accepted. Upload {KINDS_LABEL}.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadRejected(
            f"This kind of file is not accepted (text must be UTF-8). Upload {KINDS_LABEL}."
        ) from None
    if MARKUP.search(text.encode()):
        raise UploadRejected("Web pages and markup (HTML, SVG, XML) are not accepted.")
    return CSV if extension == ".csv" else TEXT


def inspect_upload(upload, *, max_bytes=None):
    """Check an uploaded file; returns what it is, or raises UploadRejected."""
    max_bytes = settings.DOCUMENT_MAX_BYTES if max_bytes is None else max_bytes
    if upload.size > max_bytes:
        raise UploadRejected(
            f"This file is {filesizeformat(upload.size)}; the limit is {filesizeformat(max_bytes)}."
        )
    if upload.size == 0:
        raise UploadRejected("This file is empty.")
    data = _read_all(upload)
    head = data[:HEAD_BYTES]
    extension = _extension(upload.name)
    if head.startswith(b"PK\x03\x04"):
        content_type = _ooxml_type(upload)
    else:
        kind = filetype.guess(head)
        if kind is not None:
            content_type = kind.mime
            if content_type not in ALLOWED or content_type in (CSV, TEXT):
                raise UploadRejected(
                    f"This kind of file ({kind.extension}) is not accepted. Upload {KINDS_LABEL}."
                )
        else:
            content_type = _text_type(data, extension)
    if content_type == PDF and not head.startswith(b"%PDF-"):
        raise UploadRejected("This PDF does not start like a PDF; save it again and retry.")
    # (Office files are zip archives whose structure was checked above; their own XML
    # parts may sit uncompressed near the start, and "PK" first is no page to a browser.)
    if content_type not in OOXML_MAIN_PART.values() and MARKUP.search(data[:SNIFF_BYTES]):
        raise UploadRejected(
            "This file holds web-page markup (HTML or script) at its start and could be "
            "mistaken for a web page; it is not accepted."
        )
    if content_type == PDF and (why := pdf_refusal(data)):
        raise UploadRejected(why)
    label, extensions = ALLOWED[content_type]
    if extension not in extensions:
        shown = extension or "no extension"
        raise UploadRejected(
            f"The file's content is {label}, but its name ends in {shown}: "
            f"rename it to end in {extensions[0]} if that is what it is."
        )
    return Checked(
        content_type=content_type,
        extension=extension,
        size=upload.size,
        sha256=hashlib.sha256(data).hexdigest(),
        name=clean_name(upload.name, extension),
    )
