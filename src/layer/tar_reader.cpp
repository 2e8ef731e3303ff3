#include "layer/tar_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "layer/layer_error.h"
#include "layer/pax.h"

namespace cim::layer {

namespace {

constexpr size_t kBlock = 512;

std::string field(const std::byte* h, size_t off, size_t len) {
    const char* p = reinterpret_cast<const char*>(h + off);
    size_t n = 0;
    while (n < len && p[n] != '\0') ++n;
    return std::string(p, n);
}

// Octal (space/NUL terminated, leading spaces allowed) or GNU base-256 (high bit of the first
// byte set; 0xFF marks a negative two's-complement number). Throws on anything else.
int64_t number(const std::byte* h, size_t off, size_t len, bool allowNegative, const std::string& what, const char* name) {
    auto* p = reinterpret_cast<const unsigned char*>(h + off);
    if (p[0] & 0x80) {
        bool neg = p[0] == 0xFF;
        if (!neg && p[0] != 0x80) failData("{}: malformed base-256 {} field", what, name);
        if (neg && !allowNegative) failData("{}: negative {} field", what, name);
        uint64_t v = neg ? ~uint64_t(0) : 0;
        for (size_t i = 1; i < len; ++i) {
            if (i < len - 8 && p[i] != (neg ? 0xFF : 0x00)) failData("{}: {} field out of range", what, name);
            v = (v << 8) | p[i];
        }
        int64_t s = static_cast<int64_t>(v);
        if (!neg && s < 0) failData("{}: {} field out of range", what, name);
        return s;
    }
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\0')) {
        if (p[i] == '\0') {  // an all-NUL (or NUL-led) field is 0
            bool rest = true;
            for (size_t j = i; j < len; ++j) rest = rest && (p[j] == '\0' || p[j] == ' ');
            if (rest) return 0;
            break;
        }
        ++i;
    }
    uint64_t v = 0;
    size_t digits = 0;
    for (; i < len && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) {
        if (v >> 60) failData("{}: {} field out of range", what, name);
        v = v * 8 + (p[i] - '0');
    }
    for (; i < len; ++i) {
        if (p[i] != ' ' && p[i] != '\0') failData("{}: malformed octal {} field", what, name);
    }
    (void)digits;
    return static_cast<int64_t>(v);
}

bool isZeroBlock(const std::byte* b) {
    for (size_t i = 0; i < kBlock; ++i) {
        if (b[i] != std::byte{0}) return false;
    }
    return true;
}

bool checksumOk(const std::byte* h, const std::string& what) {
    int64_t stored = number(h, 148, 8, false, what, "checksum");
    uint64_t u = 0;
    int64_t s = 0;
    for (size_t i = 0; i < kBlock; ++i) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
        u += c;
        s += static_cast<signed char>(c);
    }
    return stored == int64_t(u) || stored == s;
}

uint64_t checkedAdd(uint64_t a, uint64_t b, const std::string& what) {
    if (a > UINT64_MAX - b) failData("{}: size overflow", what);
    return a + b;
}

}  // namespace

TarReader::TarReader(Decompressor& src, uint64_t limit) : src_(src), limit_(limit) {}

std::string TarReader::describe(const TarEntry& e) const {
    return fmt::format("{}: entry '{}' at offset {}", src_.name(), printable(e.path), e.headerOffset);
}

bool TarReader::readBlock(std::byte* b) {
    size_t got = 0;
    if (src_.readExact({b, kBlock}, got)) return true;
    if (got == 0) return false;
    failData("{}: truncated archive: a header ends after {} of 512 bytes at offset {}", src_.name(), got, src_.position() - got);
}

void TarReader::skipStored(uint64_t n, const std::string& what) {
    while (n > 0) {
        auto s = src_.next(static_cast<size_t>(std::min<uint64_t>(n, 1 << 20)));
        if (s.empty()) failData("{}: truncated archive: data is shorter than the header says ({} bytes missing)", what, n);
        n -= s.size();
    }
}

std::string TarReader::readMetaBody(uint64_t size, const std::string& what) {
    if (size > kMaxMetaBytes) failData("{}: extension header of {} bytes exceeds the limit of {}", what, size, kMaxMetaBytes);
    std::string body(static_cast<size_t>(size), '\0');
    size_t got = 0;
    if (!src_.readExact(std::as_writable_bytes(std::span(body.data(), body.size())), got)) {
        failData("{}: truncated archive inside an extension header", what);
    }
    skipStored((kBlock - size % kBlock) % kBlock, what);
    return body;
}

void TarReader::drain() {
    // Read to the end of the stream: a compressed stream's trailer (gzip CRC, xz check) is verified
    // only when reached, and a producer writing into a pipe must not get EPIPE.
    while (!src_.next(1 << 20).empty()) {
    }
}

void TarReader::readSparse10Map(TarEntry& e) {
    // GNU sparse 1.0: the data starts with decimal lines: count, then offset/length pairs,
    // padded to a 512-byte boundary.
    std::string what = describe(e);
    uint64_t consumed = 0;
    auto readLine = [&]() -> uint64_t {
        std::string line;
        for (;;) {
            if (storedRemaining_ == 0) failData("{}: sparse map runs past the entry's data", what);
            std::byte c;
            size_t got = 0;
            if (!src_.readExact({&c, 1}, got)) failData("{}: truncated archive inside a sparse map", what);
            --storedRemaining_;
            ++consumed;
            if (static_cast<char>(c) == '\n') break;
            if (line.size() > 20) failData("{}: malformed sparse map", what);
            line.push_back(static_cast<char>(c));
        }
        return parsePaxNumber(line, UINT64_MAX, what);
    };
    uint64_t count = readLine();
    if (count > kMaxMetaBytes / 16) failData("{}: sparse map with {} segments", what, count);
    segments_.clear();
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t off = readLine();
        uint64_t len = readLine();
        segments_.push_back({off, len});
    }
    uint64_t pad = (kBlock - consumed % kBlock) % kBlock;
    if (pad > storedRemaining_) failData("{}: sparse map runs past the entry's data", what);
    skipStored(pad, what);
    storedRemaining_ -= pad;
}

std::optional<TarEntry> TarReader::next() {
    if (ended_) return std::nullopt;
    // Finish the previous entry.
    if (storedRemaining_ || padding_) {
        skipStored(storedRemaining_ + padding_, current_);
        storedRemaining_ = padding_ = 0;
    }
    logicalRemaining_ = 0;
    segments_.clear();
    sparse_ = false;

    std::map<std::string, std::string> local;
    std::vector<std::pair<std::string, std::string>> localOrdered;  // for GNU sparse 0.0
    std::optional<std::string> gnuLongName, gnuLongLink;
    bool haveLocal = false;
    std::array<std::byte, kBlock> h;
    for (;;) {
        uint64_t at = src_.position();
        if (!readBlock(h.data())) {
            failData("{}: truncated archive: the stream ends at offset {} without an end-of-archive block", src_.name(), at);
        }
        if (isZeroBlock(h.data())) {
            if (haveLocal || gnuLongName || gnuLongLink) {
                failData("{}: an extension header at offset {} is followed by the end of the archive", src_.name(), at);
            }
            ended_ = true;
            drain();
            return std::nullopt;
        }
        std::string rawName = field(h.data(), 0, 100);
        std::string what = fmt::format("{}: header '{}' at offset {}", src_.name(), printable(rawName), at);
        if (!checksumOk(h.data(), what)) failData("{}: bad header checksum (corrupt archive?)", what);
        char type = static_cast<char>(h[156]);
        bool ustar = std::memcmp(h.data() + 257, "ustar\0", 6) == 0;
        bool gnu = std::memcmp(h.data() + 257, "ustar  \0", 8) == 0;
        int64_t storedSize = number(h.data(), 124, 12, false, what, "size");

        if (type == 'x' || type == 'g') {
            std::string body = readMetaBody(uint64_t(storedSize), what);
            auto recs = parsePaxRecords(body, what);
            if (type == 'g') {
                for (auto& [k, v] : recs) {
                    if (v.empty()) global_.erase(k);
                    else global_[k] = v;
                }
            } else {
                for (auto& [k, v] : recs) {
                    localOrdered.emplace_back(k, v);
                    local[k] = v;
                }
                haveLocal = true;
            }
            continue;
        }
        if (type == 'L' || type == 'K') {
            std::string body = readMetaBody(uint64_t(storedSize), what);
            while (!body.empty() && body.back() == '\0') body.pop_back();
            (type == 'L' ? gnuLongName : gnuLongLink) = std::move(body);
            continue;
        }
        if (type == 'V') {  // volume label: not a file
            skipStored(uint64_t(storedSize) + (kBlock - uint64_t(storedSize) % kBlock) % kBlock, what);
            local.clear();
            localOrdered.clear();
            haveLocal = false;
            gnuLongName.reset();
            gnuLongLink.reset();
            continue;
        }

        TarEntry e;
        e.headerOffset = at;
        // Records in effect: global ones, overridden (or deleted by an empty value) by local ones.
        e.pax = global_;
        for (auto& [k, v] : local) {
            if (v.empty()) e.pax.erase(k);
            else e.pax[k] = v;
        }
        auto rec = [&](const char* k) -> const std::string* {
            auto it = e.pax.find(k);
            return it == e.pax.end() ? nullptr : &it->second;
        };

        // Name.
        if (const auto* p = rec("path")) e.path = *p;
        else if (gnuLongName) e.path = *gnuLongName;
        else if (ustar) {
            std::string prefix = field(h.data(), 345, 155);
            e.path = prefix.empty() ? rawName : prefix + "/" + rawName;
        } else e.path = rawName;
        if (const auto* p = rec("GNU.sparse.name")) e.path = *p;
        what = describe(e);
        current_ = what;

        if (const auto* p = rec("linkpath")) e.linkPath = *p;
        else if (gnuLongLink) e.linkPath = *gnuLongLink;
        else e.linkPath = field(h.data(), 157, 100);

        e.mode = static_cast<uint32_t>(number(h.data(), 100, 8, false, what, "mode") & 07777);
        e.uid = rec("uid") ? parsePaxNumber(*rec("uid"), UINT32_MAX, what) : uint64_t(number(h.data(), 108, 8, false, what, "uid"));
        e.gid = rec("gid") ? parsePaxNumber(*rec("gid"), UINT32_MAX, what) : uint64_t(number(h.data(), 116, 8, false, what, "gid"));
        if (e.uid > UINT32_MAX || e.gid > UINT32_MAX) failData("{}: uid/gid out of range", what);
        if (const auto* p = rec("mtime")) e.mtime = parsePaxTime(*p, what);
        else e.mtime = TarTime{number(h.data(), 136, 12, true, what, "mtime"), 0, true};
        if (const auto* p = rec("atime")) e.atime = parsePaxTime(*p, what);
        else if (gnu && number(h.data(), 345, 12, true, what, "atime")) e.atime = TarTime{number(h.data(), 345, 12, true, what, "atime"), 0, true};
        if (const auto* p = rec("ctime")) e.ctime = parsePaxTime(*p, what);
        else if (gnu && number(h.data(), 357, 12, true, what, "ctime")) e.ctime = TarTime{number(h.data(), 357, 12, true, what, "ctime"), 0, true};
        if (const auto* p = rec("LIBARCHIVE.creationtime")) e.birthtime = parsePaxTime(*p, what);
        if (ustar || gnu) {
            e.devMajor = static_cast<uint32_t>(std::min<int64_t>(number(h.data(), 329, 8, false, what, "devmajor"), UINT32_MAX));
            e.devMinor = static_cast<uint32_t>(std::min<int64_t>(number(h.data(), 337, 8, false, what, "devminor"), UINT32_MAX));
        }
        if (const auto* p = rec("SCHILY.devmajor")) e.devMajor = static_cast<uint32_t>(parsePaxNumber(*p, UINT32_MAX, what));
        if (const auto* p = rec("SCHILY.devminor")) e.devMinor = static_cast<uint32_t>(parsePaxNumber(*p, UINT32_MAX, what));

        uint64_t stored = rec("size") ? parsePaxNumber(*rec("size"), UINT64_MAX, what) : uint64_t(storedSize);

        // Xattrs: SCHILY.xattr.<name>=<raw>, LIBARCHIVE.xattr.<url-encoded name>=<base64>.
        std::map<std::string, std::string> xattrs;
        for (auto& [k, v] : e.pax) {
            if (k.starts_with("SCHILY.xattr.") && k.size() > 13) xattrs[k.substr(13)] = v;
        }
        for (auto& [k, v] : e.pax) {
            if (k.starts_with("LIBARCHIVE.xattr.") && k.size() > 17) {
                xattrs[urlDecode(k.substr(17), what)] = base64Decode(v, what + ": " + k);
            }
        }
        for (auto& [k, v] : xattrs) e.xattrs.push_back({k, v});

        // Type.
        switch (type) {
            case '0':
            case '7':
            case 'S': e.type = EntryType::regular; break;
            case '\0': e.type = (!e.path.empty() && e.path.back() == '/') ? EntryType::directory : EntryType::regular; break;
            case '1': e.type = EntryType::hardLink; break;
            case '2': e.type = EntryType::symlink; break;
            case '3': e.type = EntryType::charDevice; break;
            case '4': e.type = EntryType::blockDevice; break;
            case '5':
            case 'D': e.type = EntryType::directory; break;
            case '6': e.type = EntryType::fifo; break;
            default:
                if (type >= 0x20 && type < 0x7F) failData("{}: unsupported entry type '{}'", what, type);
                failData("{}: unsupported entry type {:#04x}", what, static_cast<unsigned char>(type));
        }

        // Data and sparse maps.
        storedRemaining_ = stored;
        padding_ = (kBlock - stored % kBlock) % kBlock;
        uint64_t logical = stored;
        if (type == 'S') {
            if (!gnu) failData("{}: old GNU sparse entry without the GNU magic", what);
            sparse_ = true;
            auto addSeg = [&](const std::byte* b, size_t off) {
                int64_t o = number(b, off, 12, false, what, "sparse offset");
                int64_t n = number(b, off + 12, 12, false, what, "sparse length");
                if (o || n) segments_.push_back({uint64_t(o), uint64_t(n)});
            };
            for (int i = 0; i < 4; ++i) addSeg(h.data(), 386 + 24 * i);
            logical = uint64_t(number(h.data(), 483, 12, false, what, "realsize"));
            bool extended = h[482] != std::byte{0};
            std::array<std::byte, kBlock> x;
            while (extended) {
                if (segments_.size() > kMaxMetaBytes / 16) failData("{}: sparse map too large", what);
                if (!readBlock(x.data())) failData("{}: truncated archive inside a sparse map", what);
                for (int i = 0; i < 21; ++i) addSeg(x.data(), 24 * i);
                extended = x[504] != std::byte{0};
            }
        } else if (rec("GNU.sparse.major") || rec("GNU.sparse.map") || rec("GNU.sparse.offset")) {
            sparse_ = true;
            const auto* major = rec("GNU.sparse.major");
            const auto* minor = rec("GNU.sparse.minor");
            if (major && *major == "1" && minor && *minor == "0") {
                const auto* rs = rec("GNU.sparse.realsize");
                if (!rs) failData("{}: GNU sparse 1.0 entry without GNU.sparse.realsize", what);
                logical = parsePaxNumber(*rs, UINT64_MAX, what);
                readSparse10Map(e);
            } else if (major) {
                failData("{}: unsupported GNU sparse format {}.{}", what, *major, minor ? *minor : "?");
            } else {
                const auto* rs = rec("GNU.sparse.realsize");
                if (!rs) rs = rec("GNU.sparse.size");
                if (!rs) failData("{}: GNU sparse entry without its real size", what);
                logical = parsePaxNumber(*rs, UINT64_MAX, what);
                if (const auto* m = rec("GNU.sparse.map")) {  // 0.1: "off,len,off,len"
                    std::vector<uint64_t> nums;
                    size_t start = 0;
                    std::string_view mv = *m;
                    while (start <= mv.size()) {
                        size_t c = mv.find(',', start);
                        if (c == std::string_view::npos) c = mv.size();
                        nums.push_back(parsePaxNumber(mv.substr(start, c - start), UINT64_MAX, what));
                        start = c + 1;
                    }
                    if (nums.size() % 2) failData("{}: GNU.sparse.map has an odd number of values", what);
                    for (size_t i = 0; i < nums.size(); i += 2) segments_.push_back({nums[i], nums[i + 1]});
                } else {  // 0.0: repeated GNU.sparse.offset / GNU.sparse.numbytes records, in order
                    std::optional<uint64_t> off;
                    for (auto& [k, v] : localOrdered) {
                        if (k == "GNU.sparse.offset") off = parsePaxNumber(v, UINT64_MAX, what);
                        else if (k == "GNU.sparse.numbytes") {
                            if (!off) failData("{}: GNU.sparse.numbytes without an offset", what);
                            segments_.push_back({*off, parsePaxNumber(v, UINT64_MAX, what)});
                            off.reset();
                        }
                    }
                }
            }
        }
        if (sparse_) {
            e.sparse = true;
            uint64_t end = 0, total = 0;
            for (const auto& s : segments_) {
                if (s.offset < end) failData("{}: sparse map segments overlap or are out of order", what);
                end = checkedAdd(s.offset, s.length, what);
                if (end > logical) failData("{}: sparse segment ends at {} beyond the file size {}", what, end, logical);
                total = checkedAdd(total, s.length, what);
            }
            if (total != storedRemaining_) {
                failData("{}: sparse map describes {} bytes of data but the entry stores {}", what, total, storedRemaining_);
            }
        }
        if (e.type == EntryType::regular) {
            if (logical > limit_) failData("{}: declared size {} exceeds the limit of {} bytes", what, logical, limit_);
            e.size = logical;
            logicalRemaining_ = logical;
        }
        logicalPos_ = 0;
        segIndex_ = 0;
        if (e.path.empty()) failData("{}: entry with an empty name", what);
        return e;
    }
}

std::span<const std::byte> TarReader::readChunk(size_t max) {
    if (logicalRemaining_ == 0 || max == 0) return {};
    size_t want = static_cast<size_t>(std::min<uint64_t>(max, logicalRemaining_));
    if (sparse_) {
        while (segIndex_ < segments_.size() && logicalPos_ >= segments_[segIndex_].offset + segments_[segIndex_].length) ++segIndex_;
        bool inSeg = segIndex_ < segments_.size() && logicalPos_ >= segments_[segIndex_].offset;
        if (!inSeg) {
            uint64_t holeEnd = segIndex_ < segments_.size() ? segments_[segIndex_].offset : logicalPos_ + logicalRemaining_;
            size_t n = static_cast<size_t>(std::min<uint64_t>(want, holeEnd - logicalPos_));
            n = std::min<size_t>(n, 1 << 20);
            if (zeros_.size() < n) zeros_.assign(std::max<size_t>(n, 64 << 10), std::byte{0});
            logicalPos_ += n;
            logicalRemaining_ -= n;
            return {zeros_.data(), n};
        }
        const auto& s = segments_[segIndex_];
        want = static_cast<size_t>(std::min<uint64_t>(want, s.offset + s.length - logicalPos_));
    }
    auto got = src_.next(want);
    if (got.empty()) {
        failData("{}: truncated archive: data is shorter than the header says ({} bytes missing)", current_, storedRemaining_);
    }
    storedRemaining_ -= got.size();
    logicalRemaining_ -= got.size();
    logicalPos_ += got.size();
    return got;
}

size_t TarReader::read(std::span<std::byte> out) {
    size_t done = 0;
    while (done < out.size()) {
        auto c = readChunk(out.size() - done);
        if (c.empty()) break;
        std::memcpy(out.data() + done, c.data(), c.size());
        done += c.size();
    }
    return done;
}

}  // namespace cim::layer
