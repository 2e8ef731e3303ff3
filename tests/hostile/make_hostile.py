#!/usr/bin/env python3
"""Generates opencim's hostile input corpus (python3 standard library only).

    make_hostile.py --tars OUTDIR             crafted layer tars (small: committed in tests/hostile/tars)
    make_hostile.py --images OUTDIR --lib SO  crafted CIMs: pristine images are written through
                                              libopencim (ctypes, the public C ABI), then damaged by
                                              surgery on their documented on-disk structures
                                              (docs/format.md). Images hold a 128 KiB upcase table,
                                              so they are generated at test time, not committed.

Each mode writes OUTDIR/manifest.tsv, one case per line:
    name  kind  stage  hresult  substring  options
kind: standard | block | merged | tar. stage: what must happen —
    open      opening fails with `hresult` and a message containing `substring`
    read      opening succeeds; a full traversal hits `hresult` (+ substring) at least once and no
              other failure code
    tolerate  opening and a full traversal succeed (failures only with codes in allow=...), and
              the traversal terminates
    import    CimImportLayer fails with `hresult`/`substring`, writes nothing
    confine   CimImportLayer succeeds and the image holds path=... (the entry was confined)
options: ';'-separated key=value: format=linux|windows|auto, max=<MaxUncompressedBytes>, root=<hex>
(verified open with that root hash), path=..., allow=<hex,hex>, paths=<dir:name,...> (merged).
"""
import argparse
import ctypes
import gzip
import hashlib
import os
import shutil
import struct
import sys

CORRUPT = "0x80070570"
NOT_FOUND = "0x80070002"
INTEGRITY = "0x80070143"
INVALID_DATA = "0x8007000D"

MASK48 = (1 << 48) - 1


# ----------------------------------------------------------------------------------------------
# Tars
# ----------------------------------------------------------------------------------------------

def octal(v, width):
    return ("%0*o" % (width - 1, v)).encode()[: width - 1] + b"\0"


def tar_header(name, typ=b"0", size=0, link=b"", mode=0o644, size_field=None, checksum_delta=0, dev=(0, 0)):
    if isinstance(name, str):
        name = name.encode("utf-8", "surrogateescape")
    if isinstance(link, str):
        link = link.encode("utf-8", "surrogateescape")
    h = bytearray(512)
    h[0:len(name[:100])] = name[:100]
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(1700000000, 12)
    h[156:157] = typ
    h[157:157 + len(link[:100])] = link[:100]
    h[257:265] = b"ustar\x0000"
    h[329:337] = octal(dev[0], 8)
    h[337:345] = octal(dev[1], 8)
    h[148:156] = b" " * 8
    s = sum(h) + checksum_delta
    h[148:156] = ("%06o" % s).encode() + b"\0 "
    return bytes(h)


def pad(b):
    return b + b"\0" * ((512 - len(b) % 512) % 512)


def pax_record(k, v):
    if isinstance(k, str):
        k = k.encode()
    if isinstance(v, str):
        v = v.encode("utf-8", "surrogateescape")
    base = len(k) + len(v) + 3
    n = base + 1
    while len(str(n)) + base != n:
        n = len(str(n)) + base
    return str(n).encode() + b" " + k + b"=" + v + b"\n"


def entry(name, typ=b"0", data=b"", link=b"", pax=None, **kw):
    out = b""
    if pax:
        body = pax if isinstance(pax, bytes) else b"".join(pax_record(k, v) for k, v in pax)
        out += tar_header("PaxHeaders/x", b"x", len(body)) + pad(body)
    out += tar_header(name, typ, len(data), link, **kw) + pad(data)
    return out


END = b"\0" * 1024


def tar_cases():
    """(name, bytes, stage, hresult, substring, options)"""
    lin, win = "format=linux", "format=windows"
    c = []
    c.append(("traversal-dotdot", entry("../evil", data=b"x") + END, "import", INVALID_DATA, "..", lin))
    c.append(("traversal-nested", entry("a/b/../../../evil", data=b"x") + END, "import", INVALID_DATA, "..", lin))
    c.append(("traversal-windows-backslash", entry("Files\\..\\..\\evil", data=b"x") + END, "import", INVALID_DATA, "..", win))
    c.append(("traversal-pax-path", entry("ok", data=b"x", pax=[("path", "../../pax-evil")]) + END, "import", INVALID_DATA, "..", lin))
    c.append(("absolute-path", entry("/etc/evil", data=b"x") + END, "confine", "0x00000000", "", lin + ";path=etc/evil"))
    c.append(("drive-letter", entry("C:/Windows/evil", data=b"x") + END, "import", INVALID_DATA, "drive", win))
    c.append(("drive-letter-files", entry("Files/C:/evil", data=b"x") + END, "import", INVALID_DATA, "forbids", win))
    c.append(("symlink-then-file", entry("link", b"2", link="/tmp") + entry("link/evil", data=b"x") + END,
              "import", INVALID_DATA, "link", lin))
    c.append(("symlink-dir-then-file-windows",
              entry("Files/", b"5") + entry("Files/link", b"2", link="C:\\Windows") + entry("Files/link/evil", data=b"x") + END,
              "import", INVALID_DATA, "link", win))
    c.append(("hardlink-outside", entry("h", b"1", link="../../etc/passwd") + END, "import", INVALID_DATA, "..", lin))
    c.append(("hardlink-absolute-missing", entry("h", b"1", link="/etc/shadow") + END, "import", INVALID_DATA, "hard link", lin))
    c.append(("hardlink-cycle", entry("a", b"1", link="b") + entry("b", b"1", link="a") + END, "import", INVALID_DATA, "hard link", lin))
    c.append(("hardlink-to-directory", entry("d/", b"5") + entry("h", b"1", link="d") + END, "import", INVALID_DATA, "d", lin))
    data = b"A" * 10000
    c.append(("truncated-data", tar_header("f", b"0", len(data)) + data[:3000], "import", INVALID_DATA, "", lin))
    c.append(("truncated-header", entry("a", data=b"x")[:700], "import", INVALID_DATA, "", lin))
    c.append(("no-end-marker", entry("a", data=b"x"), "import", INVALID_DATA, "end", lin))
    c.append(("size-lie-into-end-marker", tar_header("f", b"0", 100000) + b"abc".ljust(512, b"\0") + END,
              "import", INVALID_DATA, "", lin))
    c.append(("size-not-octal", tar_header("f", b"0", size_field=b"99zz99zz99z\0") + END, "import", INVALID_DATA, "", lin))
    c.append(("size-base256-negative", tar_header("f", b"0", size_field=b"\xff" * 12) + END, "import", INVALID_DATA, "", lin))
    c.append(("size-base256-huge", tar_header("f", b"0", size_field=b"\x80" + b"\x7f" + b"\xff" * 10) + END,
              "import", INVALID_DATA, "", lin))
    c.append(("bad-checksum", tar_header("f", b"0", 1, checksum_delta=1) + pad(b"x") + END, "import", INVALID_DATA, "checksum", lin))
    c.append(("unknown-type", entry("f", b"Z", data=b"x") + END, "import", INVALID_DATA, "type", lin))
    c.append(("pax-size-overflow", entry("f", data=b"x", pax=[("size", "9" * 30)]) + END, "import", INVALID_DATA, "size", lin))
    c.append(("pax-size-lie", entry("f", data=b"x", pax=[("size", "5000")]) + END, "import", INVALID_DATA, "", lin))
    c.append(("pax-record-length-overflow", entry("f", data=b"x", pax=b"99999999999999999999999 path=x\n") + END,
              "import", INVALID_DATA, "", lin))
    c.append(("pax-record-length-zero", entry("f", data=b"x", pax=b"0 path=x\n") + END, "import", INVALID_DATA, "", lin))
    c.append(("pax-record-no-equals", entry("f", data=b"x", pax=b"9 pathx\n") + END, "import", INVALID_DATA, "", lin))
    c.append(("pax-mtime-overflow", entry("f", data=b"x", pax=[("mtime", "9" * 40)]) + END, "import", INVALID_DATA, "mtime", lin))
    c.append(("pax-uid-overflow", entry("f", data=b"x", pax=[("uid", "99999999999999999999999")]) + END, "import", INVALID_DATA, "uid", lin))
    c.append(("pax-header-giant", tar_header("PaxHeaders/x", b"x", 100 << 20) + b"\0" * 512 + END, "import", INVALID_DATA, "", lin))
    c.append(("gnu-longname-giant", tar_header("././@LongLink", b"L", 1 << 40) + b"\0" * 512 + END, "import", INVALID_DATA, "", lin))
    c.append(("pax-sparse-bomb", entry("s", data=b"ab", pax=[("GNU.sparse.map", "0,2"), ("GNU.sparse.realsize", str(1 << 50)),
                                                              ("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1")]) + END,
              "import", INVALID_DATA, "", lin))
    c.append(("sparse-map-overlap", entry("s", data=b"abcd", pax=[("GNU.sparse.map", "0,2,1,2"), ("GNU.sparse.realsize", "10"),
                                                                  ("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1")]) + END,
              "import", INVALID_DATA, "", lin))
    deep = "/".join(["d"] * 20000)
    c.append(("path-too-long", entry("x", data=b"x", pax=[("path", deep)]) + END, "import", INVALID_DATA, "", lin))
    c.append(("component-too-long", entry("x", data=b"x", pax=[("path", "n" * 300)]) + END, "import", INVALID_DATA, "", lin))
    c.append(("control-character", entry("Files/a\x01b", data=b"x") + END, "import", INVALID_DATA, "", win))
    c.append(("windows-bad-utf8", entry(b"Files/\xff\xfe", data=b"x") + END, "import", INVALID_DATA, "", win))
    c.append(("windows-reserved-char", entry("Files/a|b", data=b"x") + END, "import", INVALID_DATA, "", win))
    c.append(("whiteout-traversal", entry("a/.wh...", data=b"") + END, "import", INVALID_DATA, "", lin))
    c.append(("whiteout-of-root", entry(".wh..wh..opq", data=b"") + END, "import", "0x80070032", "root", lin))
    c.append(("file-then-child", entry("f", data=b"x") + entry("f/child", data=b"y") + END, "import", INVALID_DATA, "f", lin))
    c.append(("windows-rawsd-bad-base64", entry("Files/a", data=b"x", pax=[("MSWINDOWS.rawsd", "!!!notbase64")]) + END,
              "import", INVALID_DATA, "", win))
    c.append(("windows-fileattr-garbage", entry("Files/a", data=b"x", pax=[("MSWINDOWS.fileattr", "12abc")]) + END,
              "import", INVALID_DATA, "", win))
    c.append(("xattr-name-too-long", entry("f", data=b"x", pax=[("SCHILY.xattr.user." + "n" * 300, "v")]) + END,
              "import", INVALID_DATA, "", lin))
    # Decompression bomb: 48 MiB of zeros in one entry, gzip-compressed to ~50 KB, against a 16 MiB limit.
    bomb = entry("zeros", data=b"\0" * (48 << 20)) + END
    c.append(("gzip-bomb", gzip.compress(bomb, 9, mtime=0), "import", INVALID_DATA, "", lin + ";max=16777216"))
    c.append(("not-a-tar", b"this is not an archive at all\n" * 40, "import", INVALID_DATA, "", "format=auto"))
    c.append(("empty-stream", b"", "import", INVALID_DATA, "", "format=auto"))
    g = gzip.compress(entry("f", data=bytes(range(256)) * 40) + END, 9, mtime=0)
    c.append(("gzip-truncated", g[:len(g) // 2], "import", INVALID_DATA, "", lin))
    return c


def write_tars(out):
    os.makedirs(out, exist_ok=True)
    lines = []
    for name, data, stage, hr, sub, opts in tar_cases():
        fn = name + (".tar.gz" if data[:2] == b"\x1f\x8b" else ".tar")
        with open(os.path.join(out, fn), "wb") as f:
            f.write(data)
        lines.append("\t".join([fn, "tar", stage, hr, sub, opts]))
    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


# ----------------------------------------------------------------------------------------------
# Images (pristine through the C ABI, then surgery)
# ----------------------------------------------------------------------------------------------

class Meta(ctypes.Structure):
    _fields_ = [("Attributes", ctypes.c_uint32), ("FileSize", ctypes.c_int64), ("CreationTime", ctypes.c_int64),
                ("LastWriteTime", ctypes.c_int64), ("ChangeTime", ctypes.c_int64), ("LastAccessTime", ctypes.c_int64),
                ("SecurityDescriptorBuffer", ctypes.c_void_p), ("SecurityDescriptorSize", ctypes.c_uint32),
                ("ReparseDataBuffer", ctypes.c_void_p), ("ReparseDataSize", ctypes.c_uint32),
                ("ExtendedAttributes", ctypes.c_void_p), ("EACount", ctypes.c_uint32)]


class Lib:
    def __init__(self, path):
        self.l = ctypes.CDLL(path)
        self.l.CimGetLastErrorMessage.restype = ctypes.c_char_p
        self.keep = []

    def check(self, hr, what):
        if hr != 0:
            raise RuntimeError("%s: 0x%08X %s" % (what, hr & 0xFFFFFFFF, self.l.CimGetLastErrorMessage().decode()))

    def create(self, path, name, flags=0):
        h = ctypes.c_void_p()
        if flags:
            self.check(self.l.CimCreateImage2(path.encode(), ctypes.c_uint32(flags), None, name.encode(), ctypes.byref(h)), "create")
        else:
            self.check(self.l.CimCreateImage(path.encode(), None, name.encode(), ctypes.byref(h)), "create")
        return h

    def buf(self, b):
        if not b:
            return None, 0
        cb = ctypes.create_string_buffer(b, len(b))
        self.keep.append(cb)
        return ctypes.cast(cb, ctypes.c_void_p), len(b)

    def file(self, h, path, data=b"", attrs=0x20, sd=b"", ea=b"", reparse=b""):
        m = Meta()
        m.Attributes = attrs
        m.FileSize = len(data)
        m.CreationTime = m.LastWriteTime = m.ChangeTime = m.LastAccessTime = 133000000000000000
        m.SecurityDescriptorBuffer, m.SecurityDescriptorSize = self.buf(sd)
        m.ReparseDataBuffer, m.ReparseDataSize = self.buf(reparse)
        m.ExtendedAttributes, m.EACount = self.buf(ea)
        s = ctypes.c_void_p()
        self.check(self.l.CimCreateFile(h, path.encode(), ctypes.byref(m), ctypes.byref(s)), "create file " + path)
        if data:
            self.check(self.l.CimWriteStream(s, data, ctypes.c_uint32(len(data))), "write " + path)
        if s.value:
            self.check(self.l.CimCloseStream(s), "close stream " + path)

    def stream(self, h, path, data):
        s = ctypes.c_void_p()
        self.check(self.l.CimCreateAlternateStream(h, path.encode(), ctypes.c_uint64(len(data)), ctypes.byref(s)), "ads")
        self.check(self.l.CimWriteStream(s, data, ctypes.c_uint32(len(data))), "write ads")
        self.check(self.l.CimCloseStream(s), "close ads")

    def commit(self, h):
        self.check(self.l.CimCommitImage(h), "commit")
        self.l.CimCloseImage(h)

    def add_fs(self, h, path):
        self.check(self.l.CimAddFsToMergedImage(h, path.encode()), "add fs")

    def seal(self, path):
        hs, fh = ctypes.c_uint64(), ctypes.c_uint64()
        root = (ctypes.c_uint8 * 32)()
        self.check(self.l.CimSealImage(path.encode(), ctypes.byref(hs), ctypes.byref(fh), root), "seal")
        return bytes(root)


SD = bytes([1, 0, 4, 0x80, 20, 0, 0, 0] + [0] * 12)
EA = b"\0\0\0\0\0\x06\x04\x00$LXUID\0\xe8\x03\0\0"  # one entry, no padding needed for the last
REPARSE = struct.pack("<IHH", 0xA000001D, 4 + 7, 0) + struct.pack("<I", 2) + b"/target"


def fill(lib, h):
    lib.file(h, "sub", attrs=0x10)
    lib.file(h, "sub\\inner.txt", b"inner")
    lib.file(h, "d2", attrs=0x10)
    lib.file(h, "f_data", bytes(range(256)) * 40)  # 10240 bytes: data region
    lib.file(h, "small.txt", b"small data")
    lib.file(h, "meta.txt", b"meta", attrs=0x420, sd=SD, ea=EA, reparse=REPARSE)
    lib.stream(h, "f_data:ads", b"alternate")


def guid_text(b):
    return "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%s" % (b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
                                                                  b[10:16].hex())


class Regions:
    """The regions of one CIM as mutable byte arrays plus how to write them back."""

    def __init__(self, blobs, save):
        self.r = blobs
        self.save = save

    def at(self, off, n):
        reg, b = off >> 48, off & MASK48
        return self.r[reg][b:b + n]

    def put(self, off, data):
        reg, b = off >> 48, off & MASK48
        self.r[reg][b:b + len(data)] = data

    def fs(self, fs_off):
        return struct.unpack("<QQII", self.at(fs_off, 24))

    def file_off(self, fs_off, fid):
        _, ftd, _, _ = self.fs(fs_off)
        toff, count, esize, _ = struct.unpack("<QHHI", self.at(ftd, 16))
        return toff + (fid - 1) * esize

    def record(self, fs_off, fid):
        return bytearray(self.at(self.file_off(fs_off, fid), 96))

    def set_record(self, fs_off, fid, rec):
        self.put(self.file_off(fs_off, fid), bytes(rec))

    def children(self, fs_off, fid):
        rec = self.record(fs_off, fid)
        data_off, lt = struct.unpack_from("<QQ", rec, 40)
        length, count = struct.unpack("<II", self.at(data_off, 8))
        out = {}
        for i in range(count):
            cid = struct.unpack("<I", self.at(data_off + 8 + 4 * i, 4))[0]
            noff = struct.unpack("<I", self.at(data_off + 8 + 4 * count + 4 * i, 4))[0]
            units = struct.unpack("<H", self.at(data_off + noff, 2))[0]
            name = self.at(data_off + noff + 2, 2 * units).decode("utf-16-le", "surrogatepass")
            out[name] = (cid, i, data_off, count, noff)
        return out


def load_standard(d, name):
    fsb = bytearray(open(os.path.join(d, name), "rb").read())
    gid = guid_text(fsb[32:48])
    count = struct.unpack_from("<H", fsb, 48)[0]
    paths = [os.path.join(d, "region_%s_%d" % (gid, i)) for i in range(count)]
    blobs = [bytearray(open(p, "rb").read()) for p in paths]

    def save():
        for p, b in zip(paths, blobs):
            with open(p, "wb") as f:
                f.write(b)
        with open(os.path.join(d, name), "wb") as f:
            f.write(fsb)

    fs_off = struct.unpack_from("<Q", fsb, 56)[0]
    return fsb, Regions(blobs, save), fs_off, paths


class Block:
    """A single-file block container with one CIM, parsed for surgery."""

    def __init__(self, path):
        self.path = path
        self.b = bytearray(open(path, "rb").read())
        (self.dir_off, self.dir_len, self.cim_count) = struct.unpack_from("<QII", self.b, 24)
        self.desc_off, self.desc_len, self.name_len = struct.unpack_from("<QIH", self.b, self.dir_off)
        self.tail = self.desc_off + 72
        self.region_count, self.source_count = struct.unpack_from("<II", self.b, self.tail)

    def extent(self, i):
        return self.tail + 8 + 24 * i  # RegionExtent i: offset, length, source, sourceRegion

    def fix_directory_digest(self):
        self.b[56:88] = hashlib.sha256(bytes(self.b[self.dir_off:self.dir_off + self.dir_len])).digest()

    def fix_header_digest(self):
        self.b[4064:4096] = hashlib.sha256(bytes(self.b[0:4064])).digest()

    def save(self, path=None):
        with open(path or self.path, "wb") as f:
            f.write(self.b)

    def regions(self):
        """Regions of the CIM as Regions over the container bytes (edits go to self.b)."""
        blobs = []
        for i in range(self.region_count):
            off, length, source, _ = struct.unpack_from("<QQII", self.b, self.extent(i))
            blobs.append(bytearray(self.b[off:off + length]))
        fs_off = struct.unpack_from("<Q", self.b, self.desc_off + 56)[0]

        def save():
            for i, blob in enumerate(blobs):
                off, length, _, _ = struct.unpack_from("<QQII", self.b, self.extent(i))
                self.b[off:off + length] = blob
            self.save()

        return Regions(blobs, save), fs_off


def write_images(out, libpath):
    lib = Lib(libpath)
    os.makedirs(out, exist_ok=True)
    pristine = os.path.join(out, ".pristine")
    os.makedirs(pristine, exist_ok=True)
    h = lib.create(pristine, "p.cim")
    fill(lib, h)
    lib.commit(h)
    lines = []

    def standard_case(name, stage, hr, sub, surgery, opts=""):
        d = os.path.join(out, name)
        shutil.copytree(pristine, d)
        fsb, regs, fs_off, paths = load_standard(d, "p.cim")
        surgery(fsb, regs, fs_off, paths)
        regs.save()
        lines.append("\t".join([name, "standard", stage, hr, sub, opts]))

    def patch(fmt, at, *vals):
        def f(fsb, regs, fs_off, paths):
            struct.pack_into(fmt, fsb, at, *vals)
        return f

    standard_case("std-bad-magic", "open", CORRUPT, "bad magic", patch("<8s", 0, b"notacim!"))
    standard_case("std-bad-version", "open", CORRUPT, "version", patch("<I", 16, 9))
    standard_case("std-parent-count-giant", "open", CORRUPT, "", patch("<H", 70, 0xFFFF))
    standard_case("std-region-count-giant", "open", NOT_FOUND, "region_", patch("<H", 48, 0xFFFF))
    standard_case("std-region-count-zero", "open", CORRUPT, "regions", patch("<H", 48, 0))
    standard_case("std-fs-offset-past-eof", "open", CORRUPT, "past its end", patch("<Q", 56, (0 << 48) | 0xFFFFFFFFFF))
    standard_case("std-fs-offset-bad-region", "open", CORRUPT, "region 9", patch("<Q", 56, (9 << 48) | 64))

    def region_header(i, fmt, at, *vals):
        def f(fsb, regs, fs_off, paths):
            struct.pack_into(fmt, regs.r[i], at, *vals)
        return f

    standard_case("std-region-bad-magic", "open", CORRUPT, "bad magic", region_header(0, "<8s", 0, b"garbage!"))
    standard_case("std-region-bad-version", "open", CORRUPT, "version", region_header(1, "<I", 16, 1))

    def region_truncated(fsb, regs, fs_off, paths):
        del regs.r[0][len(regs.r[0]) // 2:]
    standard_case("std-metadata-truncated", "open", CORRUPT, "", region_truncated)

    def fs_field(idx, value):
        def f(fsb, regs, fs_off, paths):
            vals = list(regs.fs(fs_off))
            vals[idx] = value
            regs.put(fs_off, struct.pack("<QQII", *vals))
        return f

    standard_case("std-upcase-past-eof", "open", CORRUPT, "past its end", fs_field(0, 0xFFFFFFFFF))
    standard_case("std-file-table-dir-giant", "open", CORRUPT, "file table directory", fs_field(2, 0xFFFFFFFF))
    standard_case("std-root-id-out-of-range", "open", CORRUPT, "out of range", fs_field(3, 0x7FFFFFFF))
    standard_case("std-root-id-zero", "open", CORRUPT, "file ID 0", fs_field(3, 0))

    def ftd_count(fsb, regs, fs_off, paths):
        _, ftd, _, _ = regs.fs(fs_off)
        toff, count, esize, res = struct.unpack("<QHHI", regs.at(ftd, 16))
        regs.put(ftd, struct.pack("<QHHI", toff, 0xFFFF, esize, res))
    standard_case("std-file-table-count-giant", "open", CORRUPT, "file table 0", ftd_count)

    def root_is_file(fsb, regs, fs_off, paths):
        kids = regs.children(fs_off, regs.fs(fs_off)[3])
        fs = list(regs.fs(fs_off))
        fs[3] = kids["small.txt"][0]
        regs.put(fs_off, struct.pack("<QQII", *fs))
    standard_case("std-root-not-a-directory", "open", CORRUPT, "not a directory", root_is_file)

    def with_file(fname, fn):
        def f(fsb, regs, fs_off, paths):
            root = regs.fs(fs_off)[3]
            fid = regs.children(fs_off, root)[fname][0]
            rec = regs.record(fs_off, fid)
            fn(rec, regs, fs_off)
            regs.set_record(fs_off, fid, rec)
        return f

    def data_offset(v):
        return lambda rec, regs, fs_off: struct.pack_into("<Q", rec, 40, v)

    def data_length(v):
        def f(rec, regs, fs_off):
            lt = struct.unpack_from("<Q", rec, 48)[0]
            struct.pack_into("<Q", rec, 48, (lt & ~MASK48) | v)
        return f

    standard_case("std-data-offset-past-eof", "read", CORRUPT, "past its end", with_file("f_data", data_offset((1 << 48) | 0xFFFFFFF0)))
    standard_case("std-data-offset-bad-region", "read", CORRUPT, "region", with_file("f_data", data_offset((77 << 48) | 4096)))
    standard_case("std-data-length-giant", "read", CORRUPT, "past its end", with_file("f_data", data_length(MASK48)))

    def stream_type(rec, regs, fs_off):
        lt = struct.unpack_from("<Q", rec, 48)[0]
        struct.pack_into("<Q", rec, 48, (lt & ~(0xFF << 48)) | (7 << 48))
    standard_case("std-stream-type-bad", "read", CORRUPT, "stream type", with_file("small.txt", stream_type))

    def pe_image(rec, regs, fs_off):
        lt = struct.unpack_from("<Q", rec, 48)[0]
        struct.pack_into("<Q", rec, 48, (lt & ~(0xFF << 48)) | (2 << 48))  # the data now parses as a PE image header
    standard_case("std-pe-image-garbage", "read", CORRUPT, "", with_file("f_data", pe_image))

    for field, off, label in [("sd", 56, "security descriptor"), ("ea", 64, "object"), ("reparse", 72, "reparse")]:
        standard_case("std-%s-offset-past-eof" % field, "read", CORRUPT, "past its end",
                      with_file("meta.txt", (lambda o: lambda rec, regs, fs_off: struct.pack_into("<Q", rec, o, 0xFFFFFFF0))(off)))

    def ea_length(rec, regs, fs_off):
        struct.pack_into("<H", rec, 2, 0xFFFF)  # 64 KiB of EA from near the end of the metadata region
        struct.pack_into("<Q", rec, 64, len(regs.r[0]) - 100)
    standard_case("std-ea-length-lie", "read", CORRUPT, "past its end", with_file("meta.txt", ea_length))

    def ea_garbage(rec, regs, fs_off):
        ea = struct.unpack_from("<Q", rec, 64)[0]
        regs.put(ea, b"\xff" * 19)  # in bounds but not an EA chain: returned as stored by the reader API
    standard_case("std-ea-chain-garbage", "tolerate", "0x00000000", "", with_file("meta.txt", ea_garbage))

    def sd_prefix(rec, regs, fs_off):
        end = len(regs.r[0])  # two more bytes at the region's end: a u16 length prefix of 0xFFFF
        regs.r[0] += struct.pack("<H", 0xFFFF)
        struct.pack_into("<Q", rec, 56, end)
    standard_case("std-sd-length-prefix-giant", "read", CORRUPT, "past its end", with_file("meta.txt", sd_prefix))

    def stream_table(rec, regs, fs_off):
        st = struct.unpack_from("<Q", rec, 80)[0]
        regs.put(st, struct.pack("<II", 0xFFFFFF, 0xFFFFFF))
    standard_case("std-stream-table-giant", "read", CORRUPT, "", with_file("f_data", stream_table))

    def link_table(fn):
        def f(fsb, regs, fs_off, paths):
            kids = regs.children(fs_off, regs.fs(fs_off)[3])
            cid, i, data_off, count, noff = kids["small.txt"]
            fn(regs, data_off, count, i, noff)
        return f

    standard_case("std-link-count-giant", "read", CORRUPT, "does not fit",
                  link_table(lambda regs, off, count, i, noff: regs.put(off + 4, struct.pack("<I", 0x0FFFFFFF))))
    standard_case("std-link-length-past-stream", "read", CORRUPT, "link table",
                  link_table(lambda regs, off, count, i, noff: regs.put(off, struct.pack("<I", 0x7FFFFFFF))))
    standard_case("std-link-name-offset-past-end", "read", CORRUPT, "past end",
                  link_table(lambda regs, off, count, i, noff: regs.put(off + 8 + 4 * count + 4 * i, struct.pack("<I", 0xFFFFFF))))
    standard_case("std-link-name-units-past-end", "read", CORRUPT, "past end",
                  link_table(lambda regs, off, count, i, noff: regs.put(off + noff, struct.pack("<H", 0xFFFF))))
    standard_case("std-link-file-id-zero", "read", CORRUPT, "file ID 0",
                  link_table(lambda regs, off, count, i, noff: regs.put(off + 8 + 4 * i, struct.pack("<I", 0))))
    standard_case("std-link-file-id-out-of-range", "read", CORRUPT, "out of range",
                  link_table(lambda regs, off, count, i, noff: regs.put(off + 8 + 4 * i, struct.pack("<I", 0x00FFFFFF))))

    def lone_surrogate(regs, off, count, i, noff):
        units = struct.unpack("<H", regs.at(off + noff, 2))[0]
        regs.put(off + noff + 2, struct.pack("<H", 0xD800))  # "small.txt" -> "\ud800mall.txt"
    standard_case("std-name-lone-surrogate", "tolerate", "0x00000000", "", link_table(lone_surrogate), "allow=0x80070002")

    def cycle(target):
        def f(fsb, regs, fs_off, paths):
            root = regs.fs(fs_off)[3]
            sub = regs.children(fs_off, root)["sub"]
            inner = regs.children(fs_off, sub[0])["inner.txt"]
            cid, i, data_off, count, noff = inner
            regs.put(data_off + 8 + 4 * i, struct.pack("<I", root if target == "root" else sub[0]))
        return f

    standard_case("std-cycle-to-root", "tolerate", "0x00000000", "", cycle("root"))
    standard_case("std-cycle-self", "tolerate", "0x00000000", "", cycle("self"))

    def unsorted(regs, off, count, i, noff):
        regs.put(off + noff + 2, "zz".encode("utf-16-le"))  # "small.txt" -> "zzall.txt": out of order
    standard_case("std-names-unsorted", "tolerate", "0x00000000", "", link_table(unsorted), "allow=0x80070002")

    # ---- block containers ----
    bdir = os.path.join(out, ".pristine-block")
    os.makedirs(bdir, exist_ok=True)
    bpath = os.path.join(bdir, "b.bcim")
    h = lib.create(bpath, "b.cim", 0x8)
    fill(lib, h)
    lib.commit(h)
    vpath = os.path.join(bdir, "v.bcim")
    h = lib.create(vpath, "v.cim", 0x8 | 0x40)
    fill(lib, h)
    lib.commit(h)
    root = lib.seal(vpath)

    def block_case(name, stage, hr, sub, surgery, opts="", src=bpath):
        d = os.path.join(out, name)
        os.makedirs(d)
        p = os.path.join(d, os.path.basename(src))
        shutil.copy(src, p)
        blk = Block(p)
        surgery(blk)
        blk.save()
        lines.append("\t".join([name, "block", stage, hr, sub, opts + (";" if opts else "") + "file=" + os.path.basename(src) +
                                ";cim=" + os.path.basename(src).replace(".bcim", ".cim")]))

    def hdr(fmt, at, *vals, digest=True):
        def f(blk):
            struct.pack_into(fmt, blk.b, at, *vals)
            if digest:
                blk.fix_header_digest()
        return f

    block_case("blk-bad-magic", "open", CORRUPT, "bad magic", hdr("<8s", 0, b"NOTABLK!"))
    block_case("blk-bad-version", "open", CORRUPT, "version", hdr("<I", 8, 2))
    block_case("blk-header-checksum", "open", CORRUPT, "checksum", hdr("<I", 12, 7, digest=False))
    block_case("blk-block-size", "open", CORRUPT, "block size", hdr("<I", 16, 512))
    block_case("blk-data-end-past-eof", "open", CORRUPT, "data end", hdr("<Q", 40, 1 << 40))
    block_case("blk-data-end-unaligned", "open", CORRUPT, "data end", hdr("<Q", 40, 4097))
    block_case("blk-directory-outside", "open", CORRUPT, "directory", hdr("<Q", 24, 1 << 40))
    block_case("blk-directory-in-header", "open", CORRUPT, "directory", hdr("<Q", 24, 16))
    block_case("blk-cim-count-giant", "open", CORRUPT, "truncated", hdr("<I", 36, 0xFFFFFFFF))

    def dir_edit(fmt, at, *vals, fix=True):
        def f(blk):
            struct.pack_into(fmt, blk.b, blk.dir_off + at, *vals)
            if fix:
                blk.fix_directory_digest()
                blk.fix_header_digest()
        return f

    block_case("blk-directory-checksum", "open", CORRUPT, "checksum", dir_edit("<I", 8, 999999, fix=False))
    block_case("blk-directory-name-length-giant", "open", CORRUPT, "bad name", dir_edit("<H", 12, 0xFFFF))
    block_case("blk-descriptor-length-giant", "open", CORRUPT, "descriptor", dir_edit("<I", 8, 0xFFFFFFFF))
    block_case("blk-descriptor-past-end", "open", CORRUPT, "past", dir_edit("<Q", 0, 1 << 40))

    def ext(i, fmt, at, *vals):
        def f(blk):
            struct.pack_into(fmt, blk.b, blk.extent(i) + at, *vals)
        return f

    def overlap(blk):
        off0, len0, _, _ = struct.unpack_from("<QQII", blk.b, blk.extent(0))
        off1, len1, _, _ = struct.unpack_from("<QQII", blk.b, blk.extent(1))
        struct.pack_into("<QQ", blk.b, blk.extent(1), off0, len1)  # region 1 now starts where region 0 does
    block_case("blk-regions-overlap", "open", CORRUPT, "overlap", overlap)
    block_case("blk-region-over-header", "open", CORRUPT, "overlap", ext(0, "<Q", 0, 0))

    def over_dir(blk):
        struct.pack_into("<QQ", blk.b, blk.extent(0), blk.dir_off, 4096)
    block_case("blk-region-over-directory", "open", CORRUPT, "", over_dir)
    block_case("blk-region-past-data-end", "open", CORRUPT, "outside the container", ext(0, "<Q", 8, 1 << 40))
    block_case("blk-region-length-zero", "open", CORRUPT, "outside the container", ext(0, "<Q", 8, 0))
    block_case("blk-region-source-bad", "open", CORRUPT, "source", ext(0, "<I", 16, 5))
    block_case("blk-region-count-giant", "open", CORRUPT, "regions", lambda blk: struct.pack_into("<I", blk.b, blk.tail, 0xFFFFFF))
    block_case("blk-region-count-zero", "open", CORRUPT, "regions", lambda blk: struct.pack_into("<I", blk.b, blk.tail, 0))
    block_case("blk-source-count-giant", "open", CORRUPT, "source record", lambda blk: struct.pack_into("<I", blk.b, blk.tail + 4, 1000))
    block_case("blk-descriptor-bad-header", "open", CORRUPT, "filesystem header",
               lambda blk: struct.pack_into("<8s", blk.b, blk.desc_off, b"xxxxxxxx"))

    def inner(fn):
        def f(blk):
            regs, fs_off = blk.regions()
            fn(regs, fs_off)
            for i, blob in enumerate(regs.r):
                off, length, _, _ = struct.unpack_from("<QQII", blk.b, blk.extent(i))
                blk.b[off:off + length] = blob
        return f

    block_case("blk-fs-object-past-region", "open", CORRUPT, "past its end",
               lambda blk: struct.pack_into("<Q", blk.b, blk.desc_off + 56, (0 << 48) | 0xFFFFFFF))

    def blk_cycle(regs, fs_off):
        root = regs.fs(fs_off)[3]
        sub = regs.children(fs_off, root)["sub"]
        cid, i, data_off, count, noff = regs.children(fs_off, sub[0])["inner.txt"]
        regs.put(data_off + 8 + 4 * i, struct.pack("<I", root))
    block_case("blk-cycle-to-root", "tolerate", "0x00000000", "", inner(blk_cycle))

    def blk_data_past(regs, fs_off):
        root = regs.fs(fs_off)[3]
        fid = regs.children(fs_off, root)["f_data"][0]
        rec = regs.record(fs_off, fid)
        struct.pack_into("<Q", rec, 40, (1 << 48) | 0xFFFFFF00)
        regs.set_record(fs_off, fid, rec)
    block_case("blk-data-offset-past-region", "read", CORRUPT, "past its end", inner(blk_data_past))

    # Sealed containers.
    block_case("sealed-wrong-root", "open", INTEGRITY, "integrity violation", lambda blk: None,
               "root=" + bytes(32).hex(), src=vpath)

    def seal_record(fn):
        def f(blk):
            data_end = struct.unpack_from("<Q", blk.b, 40)[0]
            at = blk.b.find(b"OCIMSEAL", data_end)
            fn(blk, at, data_end)
        return f

    block_case("sealed-record-checksum", "open", CORRUPT, "seal record",
               seal_record(lambda blk, at, de: struct.pack_into("<Q", blk.b, at + 32, 12345)), "root=" + root.hex(), src=vpath)

    def tree_tamper(blk, at, data_end):
        blk.b[data_end + 4096 + 100] ^= 0xFF
    block_case("sealed-tree-tampered", "open", INTEGRITY, "integrity violation", seal_record(tree_tamper),
               "root=" + root.hex(), src=vpath)

    def superblock_tamper(blk, at, data_end):
        struct.pack_into("<Q", blk.b, data_end + 72, 1)  # data_blocks in the verity superblock
    block_case("sealed-superblock-mismatch", "open", INTEGRITY, "not sealed", seal_record(superblock_tamper), "root=" + root.hex(),
               src=vpath)

    def data_tamper(blk):
        at = blk.b.find(bytes(range(256)) * 4)
        blk.b[at + 1000] ^= 0xFF
    block_case("sealed-data-tampered", "read", INTEGRITY, "integrity violation", data_tamper, "root=" + root.hex(), src=vpath)

    # ---- merged ----
    mdir = os.path.join(out, ".pristine-merged")
    os.makedirs(mdir, exist_ok=True)
    top, base, merged = (os.path.join(mdir, n) for n in ("top.bcim", "base.bcim", "merged.bcim"))
    for p, n in ((top, "top.cim"), (base, "base.cim")):
        h = lib.create(p, n, 0x8)
        fill(lib, h)
        lib.commit(h)
    h = lib.create(merged, "merged.cim", 0x8)
    lib.add_fs(h, top + "/top.cim")
    lib.add_fs(h, base + "/base.cim")
    lib.commit(h)

    def merged_case(name, hr, sub, surgery):
        d = os.path.join(out, name)
        shutil.copytree(mdir, d)
        blk = Block(os.path.join(d, "merged.bcim"))
        surgery(blk)
        blk.save()
        lines.append("\t".join([name, "merged", "open", hr, sub, "paths=merged.bcim:merged.cim,top.bcim:top.cim,base.bcim:base.cim"]))

    def source_record(fn):
        def f(blk):
            rec = blk.extent(blk.region_count)  # the first SourceRecord follows the extents
            fn(blk, rec)
        return f

    merged_case("merged-source-identity", CORRUPT, "not the CIM that was merged",
                source_record(lambda blk, rec: blk.b.__setitem__(rec, blk.b[rec] ^ 0xFF)))

    def external_region(blk):
        for i in range(blk.region_count):
            off, length, source, sreg = struct.unpack_from("<QQII", blk.b, blk.extent(i))
            if source:
                struct.pack_into("<I", blk.b, blk.extent(i) + 20, 40)
                return
    merged_case("merged-external-region-missing", CORRUPT, "missing or changed region", external_region)
    merged_case("merged-source-name-giant", CORRUPT, "source record",
                source_record(lambda blk, rec: struct.pack_into("<H", blk.b, rec + 68, 0xFFFF)))

    shutil.rmtree(pristine)
    shutil.rmtree(bdir)
    shutil.rmtree(mdir)
    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tars", metavar="OUTDIR")
    ap.add_argument("--images", metavar="OUTDIR")
    ap.add_argument("--lib", help="path of libopencim.so (for --images)")
    a = ap.parse_args()
    if not a.tars and not a.images:
        ap.error("give --tars and/or --images")
    if a.tars:
        print("%d hostile tars in %s" % (write_tars(a.tars), a.tars))
    if a.images:
        if not a.lib:
            ap.error("--images needs --lib")
        print("%d hostile images in %s" % (write_images(a.images, a.lib), a.images))


if __name__ == "__main__":
    sys.exit(main())
