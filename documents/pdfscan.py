"""Whether an uploaded PDF can do anything but show pages, decided by parsing it.

The file is read with pypdf (so hex-escaped names such as ``/#4A#61vaScript`` are the
names they spell, and objects packed into compressed object streams are seen), then
every object reachable from the trailer is walked: the catalog (OpenAction, AA, the
Names tree with its JavaScript and EmbeddedFiles, AcroForm with its fields and XFA),
the pages (AA) and their annotations (A, AA, links, file attachments, media), the
outlines, and every action's /Next chain. Objects the cross-reference table lists but
nothing references are walked too: a reader repairing a damaged file may find them.
Each dictionary is checked for:

- actions that run or reach outside the document: JavaScript (also a ``/JS`` entry in
  any action, e.g. Rendition), Launch, GoToR and GoToE, ImportData, SubmitForm,
  Rendition/Movie/Sound/GoTo3DView/RichMediaExecute, and URI actions whose address is not
  http(s), mailto, tel or ftp (``javascript:``, ``data:``, ``file:``, ``vbscript:``…;
  spaces and control characters are dropped first, as browsers do);
- embedded files (the EmbeddedFiles name tree, file specifications with /EF, embedded
  file streams, FileAttachment annotations), XFA forms, and RichMedia, Movie, Sound,
  Screen and 3D annotations.

A PDF that cannot be read is refused, never waved through. An encrypted PDF is
checked when it opens without a password (only editing or printing is restricted) and
refused when it asks for one: what we cannot read, we cannot check. The walk is
bounded: a visited set (references loop), ``NODE_BUDGET`` objects and entries, at most
``STREAM_BYTES`` decompressed from any one stream and ``DECODED_BYTES`` from the object
streams together (decompression bombs); past a bound the PDF is refused.
"""

import io
import re
from dataclasses import dataclass

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
)

NODE_BUDGET = 1_000_000  # objects resolved plus dictionary and array entries walked
STREAM_BYTES = 16 * 1024 * 1024  # the most one stream may decompress to
DECODED_BYTES = 64 * 1024 * 1024  # the most all object streams may decompress to

REMEDY = "(e.g. Print to PDF) and upload it again."
UNREADABLE = f"We could not read this PDF: it may be damaged or incomplete. Save it again {REMEDY}"
PASSWORD = (
    "This PDF is protected by a password, so we cannot check it; save a copy without the "
    f"password {REMEDY}"
)
ENCRYPTED = (
    f"This PDF is encrypted in a way we cannot check; save a copy without encryption {REMEDY}"
)
TOO_COMPLEX = f"This PDF is too large or complex for us to check safely; save it again {REMEDY}"


@dataclass(frozen=True)
class Finding:
    what: str  # completes "This PDF ..."
    remove: str  # completes "save it without ..."


JS_ON_OPEN = Finding("runs JavaScript when opened", "scripts")
JS = Finding("contains JavaScript", "scripts")
XFA = Finding("contains an XFA form, which can run scripts", "scripts")
LAUNCH = Finding("can launch programs or open files (a Launch action)", "actions")
EMBEDDED = Finding("carries an embedded file (an attachment)", "attachments")
REMOTE = Finding("opens other files (a GoToR or GoToE action)", "links to other files")
IMPORT = Finding("imports data from a file (an ImportData action)", "form actions")
SUBMIT = Finding("sends form data to a web address (a SubmitForm action)", "form actions")
MEDIA = Finding("embeds media or 3D content that can run code", "media")

ACTIONS = {
    "/JavaScript": JS,
    "/Launch": LAUNCH,
    "/GoToR": REMOTE,
    "/GoToE": REMOTE,
    "/ImportData": IMPORT,
    "/SubmitForm": SUBMIT,
    "/Rendition": MEDIA,
    "/Movie": MEDIA,
    "/Sound": MEDIA,
    "/GoTo3DView": MEDIA,
    "/RichMediaExecute": MEDIA,
}
ANNOTATIONS = {
    "/FileAttachment": EMBEDDED,
    "/RichMedia": MEDIA,
    "/Movie": MEDIA,
    "/Sound": MEDIA,
    "/Screen": MEDIA,
    "/3D": MEDIA,
}
SAFE_SCHEMES = {"http", "https", "mailto", "tel", "ftp"}
SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# What the catalog runs when the document is opened (its /AA fires on close, save and
# print; the Names tree's /JavaScript on opening too: see _drain).
ON_OPEN_KEYS = {"/OpenAction"}
TRAILER_SKIP = {"/Encrypt", "/ID", "/Prev", "/XRefStm", "/Size"}


class _TooComplex(Exception):
    pass


def pdf_refusal(data):
    """Why this PDF is refused (a sentence for the person uploading), or None."""
    try:
        with pypdf.apply_configuration(
            zlib_maximum_output_length=STREAM_BYTES,
            lzw_maximum_output_length=STREAM_BYTES,
            run_length_maximum_output_length=STREAM_BYTES,
            brotli_maximum_output_length=STREAM_BYTES,
            array_based_stream_maximum_output_length=STREAM_BYTES,
            jbig2_maximum_output_length=STREAM_BYTES,
            stream_decoding_work_maximum_length=4 * STREAM_BYTES,
        ):
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return PASSWORD
            findings = _Walk(reader).run()
    except (_TooComplex, LimitReachedError):
        return TOO_COMPLEX
    except FileNotDecryptedError:
        return PASSWORD
    except DependencyError:  # an encryption pypdf has no library for
        return ENCRYPTED
    except Exception:  # noqa: BLE001 - any failure to parse untrusted input: refused
        return UNREADABLE
    if not findings:
        return None
    return _sentence(findings)


def _sentence(findings):
    whats = [f.what for f in findings]
    removes = list(dict.fromkeys(f.remove for f in findings))
    what = whats[0] if len(whats) == 1 else ", ".join(whats[:-1]) + " and " + whats[-1]
    remove = removes[0] if len(removes) == 1 else ", ".join(removes[:-1]) + " or " + removes[-1]
    return f"This PDF {what}; save it without {remove} {REMEDY}"


def _text(value):
    if isinstance(value, ByteStringObject):
        return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else None


def _uri_finding(value):
    text = _text(value)
    if text is None:
        return None
    # Browsers drop leading and trailing controls and spaces, and tabs and newlines
    # anywhere: "java\tscript:" is "javascript:".
    text = "".join(ch for ch in text if ord(ch) > 0x20 and ch != "\x7f").lower()
    match = SCHEME.match(text)
    if match is None or match.group(1) in SAFE_SCHEMES:
        return None
    return Finding(f"has a link to a {match.group(1)}: address", "links")


class _Walk:
    def __init__(self, reader):
        self.reader = reader
        self.nodes = 0
        self.decoded = 0
        self.streams_seen = set()
        self.visited = set()
        self.findings = {}

    def _spend(self, n=1):
        self.nodes += n
        if self.nodes > NODE_BUDGET:
            raise _TooComplex

    def _resolve(self, ref):
        """The object behind a reference, counting what its object stream decompressed."""
        self._spend()
        obj = ref.get_object()
        packed = self.reader.xref_objStm.get(ref.idnum) if ref.generation == 0 else None
        if packed is not None and packed[0] not in self.streams_seen:
            self.streams_seen.add(packed[0])
            self.decoded += len(self.reader.get_object(packed[0]).get_data())
            if self.decoded > DECODED_BYTES:
                raise _TooComplex
        return obj

    def _value(self, d, key):
        if key not in d:
            return None
        value = d.raw_get(key)
        return self._resolve(value) if isinstance(value, IndirectObject) else value

    def _found(self, finding):
        self.findings.setdefault(finding, None)

    def run(self):
        reader = self.reader
        trailer = reader.trailer
        encrypt = trailer.raw_get("/Encrypt") if "/Encrypt" in trailer else None
        if isinstance(encrypt, IndirectObject):
            self.visited.add((encrypt.idnum, encrypt.generation))
        root = trailer.raw_get("/Root") if "/Root" in trailer else None
        if root is None:
            raise ValueError("no catalog")
        stack = [
            (value, False, False)
            for key, value in trailer.items()
            if key not in TRAILER_SKIP and key != "/Root"
        ]
        stack.append((root, False, True))  # walked first
        self._drain(stack)
        # Objects the cross-reference table lists that nothing references.
        listed = [(n, 0) for n in reader.xref_objStm]
        listed += [(n, gen) for gen, numbers in reader.xref.items() for n in numbers]
        for number, generation in listed:
            if (number, generation) not in self.visited:
                self._drain([(IndirectObject(number, generation, reader), False, False)])
        return list(self.findings)

    def _drain(self, stack):
        while stack:
            obj, on_open, is_catalog = stack.pop()
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                if key in self.visited:
                    continue
                self.visited.add(key)
                obj = self._resolve(obj)
            if isinstance(obj, DictionaryObject):  # streams too: their dictionary only
                self._spend(len(obj))
                self._inspect(obj, on_open)
                for key in obj:
                    child_on_open = on_open or (is_catalog and key in ON_OPEN_KEYS)
                    # Document-level scripts in the Names tree run when it opens.
                    child_on_open = child_on_open or key == "/JavaScript"
                    stack.append((obj.raw_get(key), child_on_open, False))
            elif isinstance(obj, ArrayObject):
                self._spend(len(obj))
                stack.extend((item, on_open, False) for item in obj)

    def _inspect(self, d, on_open):
        kind = self._value(d, "/S")
        if isinstance(kind, NameObject):
            finding = ACTIONS.get(kind)
            if finding is JS and on_open:
                finding = JS_ON_OPEN
            if finding is not None:
                self._found(finding)
            if kind == "/URI":
                finding = _uri_finding(self._value(d, "/URI"))
                if finding is not None:
                    self._found(finding)
        if "/JS" in d:
            self._found(JS_ON_OPEN if on_open else JS)
        if "/JavaScript" in d:  # the Names tree's document-level scripts
            self._found(JS_ON_OPEN)
        if "/EmbeddedFiles" in d or "/EF" in d or self._value(d, "/Type") == "/EmbeddedFile":
            self._found(EMBEDDED)
        if "/XFA" in d:
            self._found(XFA)
        subtype = self._value(d, "/Subtype")
        if isinstance(subtype, NameObject) and subtype in ANNOTATIONS:
            self._found(ANNOTATIONS[subtype])
