// Builds small tar archives byte by byte for the layer tests (ustar headers, PAX 'x' headers,
// GNU long names), including deliberately broken ones. Header-only, standard library only.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tartest {

struct Entry {
    std::string name;
    char type = '0';
    std::string data;
    uint32_t mode = 0644;
    uint64_t uid = 0, gid = 0;
    int64_t mtime = 1700000000;
    std::string link;
    uint32_t devMajor = 0, devMinor = 0;
    std::vector<std::pair<std::string, std::string>> pax;
    std::optional<uint64_t> declaredSize;  // size field when it should lie about the data
    bool gnuLongName = false;              // name through a GNU 'L' header instead of PAX
    bool badChecksum = false;
};

inline std::string octal(uint64_t v, size_t width) {
    char b[32];
    std::snprintf(b, sizeof b, "%0*llo", int(width - 1), static_cast<unsigned long long>(v));
    return std::string(b, width - 1) + std::string(1, '\0');
}

inline std::string paxRecord(const std::string& k, const std::string& v) {
    size_t base = k.size() + v.size() + 3, len = base + 1;
    while (std::to_string(len).size() + base != len) len = std::to_string(len).size() + base;
    return std::to_string(len) + " " + k + "=" + v + "\n";
}

inline void pad(std::string& out) { out.append((512 - out.size() % 512) % 512, '\0'); }

inline std::string header(const std::string& name, char type, uint64_t size, const Entry& e, bool badChecksum = false) {
    std::string h(512, '\0');
    std::memcpy(&h[0], name.data(), std::min<size_t>(name.size(), 100));
    std::memcpy(&h[100], octal(e.mode, 8).data(), 8);
    std::memcpy(&h[108], octal(e.uid, 8).data(), 8);
    std::memcpy(&h[116], octal(e.gid, 8).data(), 8);
    if (size < (uint64_t(1) << 33)) {
        std::memcpy(&h[124], octal(size, 12).data(), 12);
    } else {  // GNU base-256
        h[124] = char(0x80);
        for (int i = 0; i < 8; ++i) h[135 - i] = char((size >> (8 * i)) & 0xFF);
    }
    std::memcpy(&h[136], octal(uint64_t(e.mtime), 12).data(), 12);
    h[156] = type;
    std::memcpy(&h[157], e.link.data(), std::min<size_t>(e.link.size(), 100));
    std::memcpy(&h[257], "ustar\0" "00", 8);
    std::memcpy(&h[329], octal(e.devMajor, 8).data(), 8);
    std::memcpy(&h[337], octal(e.devMinor, 8).data(), 8);
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    if (badChecksum) sum += 1;
    char cs[8];
    std::snprintf(cs, sizeof cs, "%06o", sum);
    std::memcpy(&h[148], cs, 6);
    h[154] = '\0';
    h[155] = ' ';
    return h;
}

inline std::string build(const std::vector<Entry>& entries, bool endMarker = true) {
    std::string out;
    for (const auto& e : entries) {
        std::string records;
        for (const auto& [k, v] : e.pax) records += paxRecord(k, v);
        if (e.name.size() > 100 && !e.gnuLongName) records += paxRecord("path", e.name);
        if (e.link.size() > 100) records += paxRecord("linkpath", e.link);
        if (!records.empty()) {
            out += header("PaxHeaders/x", 'x', records.size(), Entry{});
            out += records;
            pad(out);
        }
        if (e.gnuLongName) {
            out += header("././@LongLink", 'L', e.name.size() + 1, Entry{});
            out += e.name;
            out += '\0';
            pad(out);
        }
        out += header(e.name, e.type, e.declaredSize ? *e.declaredSize : e.data.size(), e, e.badChecksum);
        out += e.data;
        pad(out);
    }
    if (endMarker) out.append(1024, '\0');
    return out;
}

}  // namespace tartest
