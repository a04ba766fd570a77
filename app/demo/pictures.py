"""A drawn picture for the demo's first proposal: the "vacant lot behind the school" it would turn
into a square. Made with Pillow at seed time, then uploaded like any resident's photo (re-encoded,
stored in the database, served by every app server)."""
import io

from PIL import Image, ImageDraw


def vacant_lot_png():
    image = Image.new("RGB", (800, 500), (176, 210, 235))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 800, 500), fill=(171, 150, 110))                 # bare ground
    draw.rectangle((420, 120, 780, 300), fill=(228, 222, 206))               # the school
    for x in range(440, 770, 55):
        draw.rectangle((x, 150, x + 30, 185), fill=(96, 128, 160))           # its windows
        draw.rectangle((x, 215, x + 30, 250), fill=(96, 128, 160))
    for x in range(0, 800, 40):
        draw.line((x, 300, x + 20, 290), fill=(120, 110, 90), width=3)       # an old fence
    for x, y in ((90, 360), (210, 420), (330, 380)):
        draw.ellipse((x - 18, y - 8, x + 18, y + 8), fill=(140, 122, 90))    # puddles and ruts
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
