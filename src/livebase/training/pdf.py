"""The certificate as a PDF: one A4 landscape page in Chinese with English beneath, and a
QR code of the verification URL.

Chinese is set in reportlab's built-in CID font STSong-Light (Adobe-GB1): the PDF names
the font and the reader supplies its glyphs, so nothing is downloaded or embedded. The QR
code is reportlab's own (``reportlab.graphics.barcode.qr``), drawn as vector squares.
"""

from __future__ import annotations

import io

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from livebase.training.certificates import OCCUPATION, WORK_TYPE, level_label
from livebase.training.models import Certificate

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
QR_SIZE = 38 * mm  # a phone reads it from arm's length on paper
_ACCENT = HexColor("#c62828")


def _register_font() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def certificate_pdf(cert: Certificate, url: str, base_name: str) -> bytes:
    """The PDF bytes of ``cert``; ``url`` is its verification URL (the QR's content)."""
    _register_font()
    buf = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buf, pagesize=(width, height), invariant=True)
    pdf.setTitle(f"{OCCUPATION}（{WORK_TYPE}）培训证书 {cert.number}")
    pdf.setAuthor(base_name)
    pdf.setSubject(url)

    pdf.setStrokeColor(_ACCENT)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    pdf.setLineWidth(0.8)
    pdf.rect(16 * mm, 16 * mm, width - 32 * mm, height - 32 * mm)

    cx = width / 2
    pdf.setFillColor(_ACCENT)
    pdf.setFont(CJK_FONT, 30)
    pdf.drawCentredString(cx, height - 45 * mm, "培 训 合 格 证 书")
    pdf.setFont(LATIN_FONT, 12)
    pdf.drawCentredString(cx, height - 53 * mm, "Certificate of Training")

    pdf.setFillColor(HexColor("#1d1d1f"))
    lines = [
        ("姓名", "Holder", cert.holder_name),
        ("职业（工种）", "Occupation", f"{OCCUPATION}（{WORK_TYPE}）"),
        ("课程", "Course", cert.course_title),
        ("等级", "Level", f"{level_label(cert.level)}  {level_label(cert.level, 'en')}"),
        ("考核成绩", "Score", f"{cert.score}"),
        ("发证日期", "Date of issue", cert.issued_on.isoformat()),
        ("证书编号", "Number", cert.number),
    ]
    y = height - 75 * mm
    x_label, x_value = 40 * mm, 95 * mm
    for zh, en, value in lines:
        pdf.setFont(CJK_FONT, 14)
        pdf.drawString(x_label, y, zh)
        pdf.setFont(LATIN_FONT, 8)
        pdf.drawString(x_label, y - 4 * mm, en)
        pdf.setFont(CJK_FONT, 15)
        pdf.drawString(x_value, y, value)
        y -= 13 * mm

    pdf.setFont(CJK_FONT, 13)
    pdf.drawRightString(width - 40 * mm, 36 * mm, base_name)
    pdf.setFont(LATIN_FONT, 8)
    pdf.drawRightString(width - 40 * mm, 31 * mm, "Issued by the live-commerce base named above")

    qr = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(
        QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0]
    )
    drawing.add(qr)
    qx, qy = width - 40 * mm - QR_SIZE, height - 75 * mm - QR_SIZE + 8 * mm
    renderPDF.draw(drawing, pdf, qx, qy)
    pdf.setFont(CJK_FONT, 9)
    pdf.drawCentredString(qx + QR_SIZE / 2, qy - 5 * mm, "扫码验证 Scan to verify")

    pdf.showPage()
    pdf.save()
    return buf.getvalue()
