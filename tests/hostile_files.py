"""Hostile import files built in code: raw XLSX packages (zip bombs, XML entities, malformed
XML, huge cells), for the importer's bound and fuzz tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OOXML}.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    XML_HEAD + f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)


def workbook_xml(sheet: str) -> str:
    return (
        XML_HEAD + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
        f'<sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


WORKBOOK_RELS = (
    XML_HEAD + f'<Relationships xmlns="{PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_RELS_TYPE}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELS_TYPE}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def inline_row(values: Iterable[str]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>' for v in values)
    return f"<row>{cells}</row>"


def sheet_xml(rows: Iterable[str], prolog: str = XML_HEAD) -> str:
    return (
        f'{prolog}<worksheet xmlns="{MAIN_NS}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
    )


def shared_xml(strings: Iterable[str], prolog: str = XML_HEAD) -> str:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'{prolog}<sst xmlns="{MAIN_NS}">{items}</sst>'


Part = str | bytes | Iterable[bytes]


def _write(archive: zipfile.ZipFile, name: str, part: Part) -> None:
    if isinstance(part, (str, bytes)):
        archive.writestr(name, part)
        return
    with archive.open(name, "w", force_zip64=True) as member:  # streamed: never all in memory
        for chunk in part:
            member.write(chunk)


def raw_xlsx(sheet: Part, shared: Part = "", sheet_name: str = "products", level: int = 6) -> bytes:
    """An XLSX package around a worksheet's XML and shared strings (strings, or chunks)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook_xml(sheet_name))
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        _write(archive, "xl/sharedStrings.xml", shared or shared_xml([]))
        _write(archive, "xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


HEADER = ("product_id", "name", "group_148", "stars", "producer_id")


def zip_bomb_xlsx(rows: int = 20_000_000) -> bytes:
    """A products sheet of ``rows`` identical rows: a few MB that unpack to hundreds of MB."""
    row = b'<row><c t="inlineStr"><is><t>X</t></is></c><c><v>3</v></c></row>'

    def chunks():
        yield (XML_HEAD + f'<worksheet xmlns="{MAIN_NS}"><sheetData>').encode()
        yield inline_row(HEADER).encode()
        block = row * 100_000
        for _ in range(rows // 100_000):
            yield block
        yield b"</sheetData></worksheet>"

    return raw_xlsx(chunks(), level=9)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    )
    + "]>\n"
)
XXE = '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


def entity_xlsx(where: str = "shared", prolog: str = BILLION_LAUGHS) -> bytes:
    """A workbook whose shared strings or sheet declare entities (billion laughs or XXE)."""
    entity = "&lol9;" if "lol9" in prolog else "&xxe;"
    if where == "shared":
        rows = [inline_row(HEADER), '<row><c t="s"><v>0</v></c><c t="s"><v>0</v></c></row>']
        return raw_xlsx(sheet_xml(rows), shared=shared_xml([entity], prolog))
    rows = [inline_row(HEADER), f'<row><c t="inlineStr"><is><t>{entity}</t></is></c></row>']
    return raw_xlsx(sheet_xml(rows, prolog))


def malformed_xlsx() -> bytes:
    """A workbook whose sheet XML is cut off in the middle of a tag."""
    return raw_xlsx(sheet_xml([inline_row(HEADER)])[:-40] + "<row><c t=")


def huge_cell_xlsx(chars: int) -> bytes:
    """A products sheet whose one data cell holds ``chars`` characters (a shared string,
    streamed into the zip: a 1 GB cell makes a file of about 1 MB)."""
    rows = [
        inline_row(HEADER),
        '<row><c t="inlineStr"><is><t>P1</t></is></c><c t="s"><v>0</v></c></row>',
    ]

    def shared():
        yield (XML_HEAD + f'<sst xmlns="{MAIN_NS}"><si><t>').encode()
        block = b"x" * 2**20
        for _ in range(chars // len(block)):
            yield block
        yield b"x" * (chars % len(block))
        yield b"</t></si></sst>"

    return raw_xlsx(sheet_xml(rows), shared=shared(), level=9)


def repeated_string_xlsx(cells: int, chars: int = 30_000) -> bytes:
    """A small workbook that references one long shared string from ``cells`` cells."""
    row = '<row><c t="inlineStr"><is><t>P</t></is></c><c t="s"><v>0</v></c></row>'
    return raw_xlsx(
        sheet_xml([inline_row(HEADER), row * cells]), shared=shared_xml(["y" * chars]), level=9
    )
