#include "layer/tar_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "layer/pax.h"

namespace cim::layer {

namespace {

constexpr size_t kBlock = 512;

bool fitsOctal(uint64_t v, size_t len) { return len - 1 >= 22 || v < (uint64_t(1) << (3 * (len - 1))); }

void octal(std::byte* h, size_t off, size_t len, uint64_t v) {
    std::string s = fmt::format("{:0{}o}", v, len - 1);
    std::memcpy(h + off, s.data(), len - 1);
    h[off + len - 1] = std::byte{0};
}

bool isAscii(std::string_view s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c >= 0x7F) return false;
    }
    return true;
}

bool isUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t k = 1; k < n; ++k) {
            unsigned char d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += n;
    }
    return true;
}

// Splits a path into ustar (prefix, name) or returns false when it does not fit.
bool splitUstar(const std::string& p, std::string& prefix, std::string& name) {
    if (p.size() <= 100) {
        prefix.clear();
        name = p;
        return true;
    }
    for (size_t i = std::min<size_t>(p.size() - 1, 155); i > 0; --i) {
        if (p[i] == '/' && p.size() - i - 1 <= 100 && p.size() - i - 1 > 0) {
            prefix = p.substr(0, i);
            name = p.substr(i + 1);
            return true;
        }
    }
    return false;
}

}  // namespace

TarWriter::TarWriter(int fd, std::string name) : fd_(fd), name_(std::move(name)) { buf_.reserve(1 << 20); }

void TarWriter::flush() {
    size_t off = 0;
    while (off < buf_.size()) {
        ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) failErrno(errno, "write " + name_);
        off += size_t(n);
    }
    buf_.clear();
}

void TarWriter::put(std::span<const std::byte> d) {
    if (buf_.size() + d.size() > (1 << 20)) flush();
    if (d.size() >= (1 << 20)) {
        size_t off = 0;
        while (off < d.size()) {
            ssize_t n = ::write(fd_, d.data() + off, d.size() - off);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) failErrno(errno, "write " + name_);
            off += size_t(n);
        }
        return;
    }
    buf_.insert(buf_.end(), d.begin(), d.end());
}

void TarWriter::block(const TarHeader& h, const std::string& name, const std::string& prefix, char type, uint64_t size) {
    std::array<std::byte, kBlock> b{};
    std::memcpy(b.data(), name.data(), std::min<size_t>(name.size(), 100));
    octal(b.data(), 100, 8, fitsOctal(h.mode, 8) ? h.mode : 0);
    octal(b.data(), 108, 8, fitsOctal(h.uid, 8) ? h.uid : 0);
    octal(b.data(), 116, 8, fitsOctal(h.gid, 8) ? h.gid : 0);
    octal(b.data(), 124, 12, fitsOctal(size, 12) ? size : 0);
    int64_t mt = h.mtime.sec;
    octal(b.data(), 136, 12, (mt >= 0 && fitsOctal(uint64_t(mt), 12)) ? uint64_t(mt) : 0);
    b[156] = static_cast<std::byte>(type);
    if (type != 'x') std::memcpy(b.data() + 157, h.linkPath.data(), std::min<size_t>(h.linkPath.size(), 100));
    std::memcpy(b.data() + 257, "ustar\0" "00", 8);
    octal(b.data(), 329, 8, fitsOctal(h.devMajor, 8) ? h.devMajor : 0);
    octal(b.data(), 337, 8, fitsOctal(h.devMinor, 8) ? h.devMinor : 0);
    std::memcpy(b.data() + 345, prefix.data(), std::min<size_t>(prefix.size(), 155));
    std::memset(b.data() + 148, ' ', 8);
    uint32_t sum = 0;
    for (auto c : b) sum += static_cast<uint8_t>(c);
    std::string s = fmt::format("{:06o}", sum);
    std::memcpy(b.data() + 148, s.data(), 6);
    b[154] = std::byte{0};
    b[155] = std::byte{' '};
    put(b);
}

void TarWriter::header(const TarHeader& h) {
    if (remaining_) fail(hr::invalidArg, "{}: previous entry's data is incomplete", name_);
    std::string records;
    std::string prefix, name;
    bool pathFits = isAscii(h.path) && splitUstar(h.path, prefix, name);
    if (!pathFits) {
        if (!isUtf8(h.path) || !isUtf8(h.linkPath)) records += formatPaxRecord("hdrcharset", "BINARY");
        records += formatPaxRecord("path", h.path);
        prefix.clear();
        name = h.path.substr(0, 100);
    }
    if (!h.linkPath.empty() && (h.linkPath.size() > 100 || !isAscii(h.linkPath))) {
        if (pathFits && !isUtf8(h.linkPath)) records += formatPaxRecord("hdrcharset", "BINARY");
        records += formatPaxRecord("linkpath", h.linkPath);
    }
    if (!fitsOctal(h.size, 12)) records += formatPaxRecord("size", std::to_string(h.size));
    if (!fitsOctal(h.uid, 8)) records += formatPaxRecord("uid", std::to_string(h.uid));
    if (!fitsOctal(h.gid, 8)) records += formatPaxRecord("gid", std::to_string(h.gid));
    if (h.mtime.nsec || h.mtime.sec < 0 || !fitsOctal(uint64_t(h.mtime.sec), 12)) records += formatPaxRecord("mtime", formatPaxTime(h.mtime));
    if (!fitsOctal(h.devMajor, 8)) records += formatPaxRecord("SCHILY.devmajor", std::to_string(h.devMajor));
    if (!fitsOctal(h.devMinor, 8)) records += formatPaxRecord("SCHILY.devminor", std::to_string(h.devMinor));
    for (const auto& [k, v] : h.pax) records += formatPaxRecord(k, v);
    if (!records.empty()) {
        std::string base = h.path;
        while (!base.empty() && base.back() == '/') base.pop_back();
        size_t slash = base.rfind('/');
        if (slash != std::string::npos) base = base.substr(slash + 1);
        std::string pname = "PaxHeaders/" + base;
        if (!isAscii(pname) || pname.size() > 100) pname = "PaxHeaders/entry";
        TarHeader ph;
        ph.mode = 0644;
        ph.mtime = h.mtime;
        if (ph.mtime.sec < 0) ph.mtime = {};
        block(ph, pname, "", 'x', records.size());
        put(std::as_bytes(std::span(records.data(), records.size())));
        size_t pad = (kBlock - records.size() % kBlock) % kBlock;
        static const std::array<std::byte, kBlock> zeros{};
        put(std::span(zeros.data(), pad));
    }
    block(h, name, prefix, h.type, h.size);
    remaining_ = h.size;
    padding_ = (kBlock - h.size % kBlock) % kBlock;
    if (remaining_ == 0) padding_ = 0;
}

void TarWriter::data(std::span<const std::byte> d) {
    if (d.size() > remaining_) fail(hr::invalidArg, "{}: more data than the entry's size", name_);
    put(d);
    remaining_ -= d.size();
    if (remaining_ == 0 && padding_) {
        static const std::array<std::byte, kBlock> zeros{};
        put(std::span(zeros.data(), padding_));
        padding_ = 0;
    }
}

void TarWriter::finish() {
    if (remaining_) fail(hr::invalidArg, "{}: the last entry's data is incomplete", name_);
    static const std::array<std::byte, kBlock * 2> zeros{};
    put(zeros);
    flush();
}

}  // namespace cim::layer
