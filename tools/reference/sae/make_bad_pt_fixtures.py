"""Bad torch archives for the ae.pt reader's error tests, derived from the real fixture ae.pt.

- short-storage.pt: storage data/0 (encoder.weight, 1024 floats) cut to 100 bytes (CRC updated by zipfile).
- forbidden-class.pt: data.pkl replaced by a pickle that names posix.system (must be refused by name).
Run: /usr/bin/python3 tools/reference/sae/make_bad_pt_fixtures.py SRC_AE_PT OUT_DIR
"""
import sys
import zipfile

src, out = sys.argv[1], sys.argv[2]
zin = zipfile.ZipFile(src)
with zipfile.ZipFile(out + "/short-storage.pt", "w", zipfile.ZIP_STORED) as z:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith("/data/0"):
            data = data[:100]
        z.writestr(info.filename, data)
evil = b"\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03."
with zipfile.ZipFile(out + "/forbidden-class.pt", "w", zipfile.ZIP_STORED) as z:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith("data.pkl"):
            data = evil
        z.writestr(info.filename, data)
