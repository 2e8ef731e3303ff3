#include "layer/layer_export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>

#include "block/block_image.h"
#include "format/ea.h"
#include "format/layout.h"
#include "image/image.h"
#include "image/open.h"
#include "io/file.h"
#include "layer/layer_error.h"
#include "layer/layer_op.h"
#include "layer/linux_ea.h"
#include "layer/pax.h"
#include "layer/reparse.h"
#include "layer/tar_writer.h"
#include "layer/whiteout.h"

namespace cim::layer {

namespace {

constexpr uint32_t kIfMt = 0170000, kIfReg = 0100000, kIfDir = 0040000;

std::string bytesToString(const std::vector<std::byte>& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

bool isPaxKeySafe(std::string_view n) {
    for (unsigned char c : n) {
        if (c <= 0x20 || c >= 0x7F || c == '=' || c == '%') return false;
    }
    return !n.empty();
}

class Exporter {
public:
    Exporter(const image::Image& img, LayerFormat f, TarWriter& w) : img_(img), f_(f), w_(w) {}

    void run() {
        if (f_ == LayerFormat::Linux) {
            image::FileNode root = img_.file(img_.rootId());
            if (!img_.extendedAttributes(root).empty()) entry({}, root);
        }
        img_.walk([&](const std::vector<std::u16string>& path, const image::FileNode& n) { entry(path, n); }, true);
        w_.finish();
    }

private:
    std::string tarPath(const std::vector<std::u16string>& path) const {
        std::string s;
        for (const auto& c : path) {
            if (!s.empty()) s += '/';
            s += fromCimName(c, f_);
        }
        return s;
    }

    void times(const image::FileNode& n, TarHeader& h) {
        h.mtime = fromFiletime(n.rec.lastWriteTime);
        auto add = [&](const char* key, int64_t ft) {
            if (ft != n.rec.lastWriteTime) h.pax.emplace_back(key, formatPaxTime(fromFiletime(ft)));
        };
        add("atime", n.rec.lastAccessTime);
        add("ctime", n.rec.changeTime);
        add("LIBARCHIVE.creationtime", n.rec.creationTime);
    }

    void copyData(const format::Stream& s, uint64_t size) {
        std::vector<std::byte> buf(static_cast<size_t>(std::min<uint64_t>(size, 1 << 20)));
        for (uint64_t off = 0; off < size;) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
            size_t got = img_.readStream(s, off, std::span(buf).first(want));
            if (got == 0) fail(hr::corrupt, "{}: stream ends at {} of {} bytes", img_.name(), off, size);
            w_.data(std::span(buf).first(got));
            off += got;
        }
    }

    void entry(const std::vector<std::u16string>& path, const image::FileNode& n) {
        std::string p = path.empty() ? "." : tarPath(path);
        std::string what = fmt::format("{}: {}", img_.name(), printable(p));
        TarHeader h;
        h.mtime = fromFiletime(n.rec.lastWriteTime);
        if (n.isTombstone()) {
            h.mtime = TarTime{0, 0, true};  // tombstones carry no times
            std::string dir = tarPath({path.begin(), path.end() - 1});
            h.path = (dir.empty() ? "" : dir + "/") + kWhiteoutPrefix + fromCimName(path.back(), f_);
            h.type = '0';
            w_.header(h);
            return;
        }
        if (n.isMergeLink()) {
            std::u16string t = img_.mergeLinkTarget(n);
            for (auto& c : t) {
                if (c == u'\\') c = u'/';
            }
            std::vector<std::u16string> comps;
            size_t s = 0;
            for (size_t i = 0; i <= t.size(); ++i) {
                if (i == t.size() || t[i] == u'/') {
                    if (i > s) comps.push_back(t.substr(s, i - s));
                    s = i + 1;
                }
            }
            h.path = p;
            h.type = '1';
            h.linkPath = tarPath(comps);
            h.mode = 0644;
            w_.header(h);
            return;
        }
        if (!n.isDirectory()) {
            if (img_.linkCount(n.id) > 1) {
                auto [it, first] = firstName_.try_emplace(n.id, p);
                if (!first) {
                    h.path = p;
                    h.type = '1';
                    h.linkPath = it->second;
                    h.mode = 0644;
                    w_.header(h);
                    return;
                }
            }
        }
        if (f_ == LayerFormat::Windows) windowsEntry(p, n, what, h);
        else linuxEntry(path.empty() ? "./" : p, n, what, h);
        if (n.isOpaqueDirectory()) {
            TarHeader o;
            o.path = (path.empty() ? "" : p + "/") + kOpaqueWhiteout;
            o.mtime = h.mtime;
            w_.header(o);
        }
    }

    void windowsEntry(const std::string& p, const image::FileNode& n, const std::string& what, TarHeader& h) {
        uint32_t attr = n.attributes();
        h.pax.emplace_back("MSWINDOWS.fileattr", std::to_string(attr));
        auto sd = img_.securityDescriptor(n);
        if (!sd.empty() && sd != nullSecurityDescriptor()) h.pax.emplace_back("MSWINDOWS.rawsd", base64Encode(bytesToString(sd)));
        auto eaBytes = img_.extendedAttributes(n);
        if (!eaBytes.empty()) {
            for (const auto& ea : format::parseEaChain(eaBytes, hr::corrupt)) {
                h.pax.emplace_back("MSWINDOWS.xattr." + ea.name, base64Encode(bytesToString(ea.value)));
            }
        }
        times(n, h);
        auto rp = img_.reparseData(n);
        h.path = p;
        if (!rp.empty()) {
            auto link = decodeWindowsLink(rp, what);
            if (!link) fail(hr::notSupported, "{}: reparse tag {:#010x} cannot be exported to a Windows layer", what, reparseTag(rp));
            h.type = '2';
            h.linkPath = fromCimName(link->printName, LayerFormat::Windows);
            h.mode = 0777;
            if (link->mountPoint) h.pax.emplace_back("MSWINDOWS.mountpoint", "1");
            w_.header(h);
        } else if (n.isDirectory()) {
            h.type = '5';
            h.path += '/';
            h.mode = 0755;
            w_.header(h);
        } else {
            h.type = '0';
            h.size = n.size();
            h.mode = 0644;
            w_.header(h);
            copyData(n.rec.defaultStream, h.size);
        }
        for (const auto& s : img_.alternateStreams(n)) {
            TarHeader a;
            a.path = p + ":" + fromCimName(s.name, LayerFormat::Windows) + ":$DATA";
            a.type = '0';
            a.size = format::streamLength(s.stream);
            a.mode = 0644;
            a.mtime = h.mtime;
            w_.header(a);
            copyData(s.stream, a.size);
        }
    }

    void linuxEntry(const std::string& p, const image::FileNode& n, const std::string& what, TarHeader& h) {
        auto md = parseLinuxEas(img_.extendedAttributes(n), what);
        h.uid = md.uid.value_or(0);
        h.gid = md.gid.value_or(0);
        uint32_t mode = md.mode.value_or(n.isDirectory() ? (kIfDir | 0755) : (kIfReg | 0644));
        h.mode = mode & 07777;
        for (const auto& x : md.xattrs) {
            if (isPaxKeySafe(x.name)) h.pax.emplace_back("SCHILY.xattr." + x.name, x.value);
            else h.pax.emplace_back("LIBARCHIVE.xattr." + urlEncode(x.name), base64Encode(x.value));
        }
        times(n, h);
        h.path = p;
        auto rp = img_.reparseData(n);
        uint32_t tag = reparseTag(rp);
        if (tag == kTagLxSymlink) {
            h.type = '2';
            h.linkPath = decodeLxSymlink(rp, what);
        } else if (tag == kTagLxFifo) {
            h.type = '6';
        } else if (tag == kTagLxChr || tag == kTagLxBlk) {
            h.type = tag == kTagLxChr ? '3' : '4';
            if (!md.dev) fail(hr::corrupt, "{}: device without $LXDEV", what);
            h.devMajor = md.dev->first;
            h.devMinor = md.dev->second;
        } else if (tag == kTagAfUnix) {
            return;  // sockets cannot be stored in a tar
        } else if (tag == kTagSymlink || tag == kTagMountPoint) {
            auto link = decodeWindowsLink(rp, what);
            std::string t = fromCimName(link->printName, LayerFormat::Windows);
            for (auto& c : t) {
                if (c == '\\') c = '/';
            }
            h.type = '2';
            h.linkPath = t;
        } else if (tag != 0) {
            fail(hr::notSupported, "{}: reparse tag {:#010x} cannot be exported to a Linux layer", what, tag);
        } else if (n.isDirectory()) {
            h.type = '5';
            if (h.path.back() != '/') h.path += '/';
        } else {
            h.type = '0';
            h.size = n.size();
        }
        (void)kIfMt;
        w_.header(h);
        if (h.type == '0') copyData(n.rec.defaultStream, h.size);
    }

    const image::Image& img_;
    LayerFormat f_;
    TarWriter& w_;
    std::unordered_map<uint32_t, std::string> firstName_;
};

}  // namespace

void exportLayer(const std::string& dir, const std::string& name, bool block, std::optional<LayerFormat> format,
                 const std::string& tarPath) {
    std::shared_ptr<image::Image> img = block ? block::openBlock(dir, name) : image::openStandard(dir, name);
    LayerFormat f = format ? *format
                           : (std::memcmp(&img->upcase(), &identityUpcaseTable(), sizeof(UpcaseTable)) == 0 ? LayerFormat::Linux
                                                                                                            : LayerFormat::Windows);
    if (tarPath == "-") {
        TarWriter w(STDOUT_FILENO, "(stdout)");
        Exporter(*img, f, w).run();
        return;
    }
    std::string temp = io::tempNameFor(tarPath);
    io::File out = io::File::open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    try {
        TarWriter w(out.fd(), tarPath);
        Exporter(*img, f, w).run();
        out.sync();
        out.close();
        io::renameFile(temp, tarPath);
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
}

}  // namespace cim::layer
