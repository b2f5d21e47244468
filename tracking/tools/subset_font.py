"""Build-time tool: subset Noto Sans CJK SC (see static/fonts/README.md)."""

# Subset Noto Sans CJK SC to ASCII, Latin-1, common punctuation and GB2312 hanzi.
import contextlib
import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
chars |= (
    set(range(0x2000, 0x2070))
    | set(range(0x3000, 0x3040))
    | set(range(0xFF00, 0xFFF0))
    | {0x20AC, 0x2192, 0x2605, 0x2713}
)
for hi in range(0xB0, 0xD8):  # GB2312 level 1: the 3,755 common hanzi
    for lo in range(0xA1, 0xFF):
        with contextlib.suppress(UnicodeDecodeError):
            chars.add(ord(bytes([hi, lo]).decode("gb2312")))
font = TTCollection(f"/usr/share/fonts/opentype/noto/NotoSansCJK-{sys.argv[1]}.ttc").fonts[2]
opts = subset.Options()
opts.layout_features = ["kern", "liga", "vert", "locl"]
opts.name_IDs = ["*"]
opts.hinting = False
opts.desubroutinize = False
sub = subset.Subsetter(opts)
sub.populate(unicodes=chars)
sub.subset(font)
font.save(sys.argv[2])
print(len(chars))
