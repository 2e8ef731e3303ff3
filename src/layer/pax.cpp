#include "layer/pax.h"

#include <array>
#include <limits>

#include "layer/layer_error.h"

namespace cim::layer {

namespace {
constexpr int64_t kFiletimeUnixEpoch = 116444736000000000;
// Seconds range whose FILETIME fits in an int64 (about +-29000 years): refuse anything beyond.
constexpr int64_t kMaxAbsSeconds = 900000000000LL;
}  // namespace

int64_t toFiletime(const TarTime& t) { return t.sec * 10000000 + int64_t(t.nsec / 100) + kFiletimeUnixEpoch; }

TarTime fromFiletime(int64_t ft) {
    int64_t ticks = ft - kFiletimeUnixEpoch;
    int64_t sec = ticks / 10000000, rem = ticks % 10000000;
    if (rem < 0) {
        rem += 10000000;
        sec -= 1;
    }
    return TarTime{sec, static_cast<uint32_t>(rem * 100), true};
}

std::vector<std::pair<std::string, std::string>> parsePaxRecords(std::string_view body, const std::string& what) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t pos = 0;
    while (pos < body.size()) {
        // GNU tar pads the header body with NULs after the last record.
        if (body[pos] == '\0') {
            for (size_t i = pos; i < body.size(); ++i) {
                if (body[i] != '\0') failData("{}: PAX header: garbage after the records at byte {}", what, pos);
            }
            break;
        }
        size_t len = 0, i = pos;
        while (i < body.size() && body[i] >= '0' && body[i] <= '9') {
            if (len > body.size()) failData("{}: PAX header: record length at byte {} is too large", what, pos);
            len = len * 10 + size_t(body[i] - '0');
            ++i;
        }
        if (i == pos || i >= body.size() || body[i] != ' ') failData("{}: PAX header: malformed record length at byte {}", what, pos);
        if (len < (i - pos) + 4 || len > body.size() - pos) {
            failData("{}: PAX header: record at byte {} has a bad length {}", what, pos, len);
        }
        std::string_view rec = body.substr(i + 1, len - (i - pos) - 1);  // "key=value\n"
        if (rec.empty() || rec.back() != '\n') failData("{}: PAX header: record at byte {} does not end in a newline", what, pos);
        rec.remove_suffix(1);
        size_t eq = rec.find('=');
        if (eq == std::string_view::npos || eq == 0) failData("{}: PAX header: record at byte {} has no key", what, pos);
        std::string_view key = rec.substr(0, eq);
        if (key.find('\0') != std::string_view::npos) failData("{}: PAX header: record at byte {} has a NUL in its key", what, pos);
        out.emplace_back(std::string(key), std::string(rec.substr(eq + 1)));
        pos += len;
    }
    return out;
}

std::string formatPaxRecord(std::string_view key, std::string_view value) {
    size_t base = key.size() + value.size() + 3;  // ' ', '=', '\n'
    size_t len = base + 1;
    for (;;) {
        size_t digits = std::to_string(len).size();
        if (base + digits == len) break;
        len = base + digits;
    }
    std::string r = std::to_string(len);
    r += ' ';
    r += key;
    r += '=';
    r += value;
    r += '\n';
    return r;
}

TarTime parsePaxTime(std::string_view v, const std::string& what) {
    bool neg = false;
    size_t i = 0;
    if (i < v.size() && (v[i] == '-' || v[i] == '+')) {
        neg = v[i] == '-';
        ++i;
    }
    int64_t sec = 0;
    size_t digits = 0;
    for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i, ++digits) {
        sec = sec * 10 + (v[i] - '0');
        if (sec > kMaxAbsSeconds) failData("{}: PAX time '{}' is out of range", what, printable(v));
    }
    uint32_t nsec = 0;
    if (i < v.size() && v[i] == '.') {
        ++i;
        uint32_t scale = 100000000;
        for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) {
            nsec += uint32_t(v[i] - '0') * scale;
            scale /= 10;
        }
    }
    if (digits == 0 || i != v.size()) failData("{}: malformed PAX time '{}'", what, printable(v));
    TarTime t{sec, nsec, true};
    if (neg) {
        t.sec = -sec;
        if (nsec) {
            t.sec -= 1;
            t.nsec = 1000000000 - nsec;
        }
    }
    return t;
}

std::string formatPaxTime(const TarTime& t) {
    if (t.nsec == 0) return std::to_string(t.sec);
    int64_t sec = t.sec;
    uint32_t ns = t.nsec;
    std::string sign;
    if (sec < 0) {  // floor form back to a signed decimal: {-2, 5e8} = -1.5
        sign = "-";
        sec = -(sec + 1);
        ns = 1000000000 - ns;
    }
    std::string frac = fmt::format("{:09d}", ns);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();  // writers trim trailing zeros
    return sign + std::to_string(sec) + "." + frac;
}

uint64_t parsePaxNumber(std::string_view v, uint64_t max, const std::string& what) {
    if (v.empty()) failData("{}: empty PAX number", what);
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') failData("{}: malformed PAX number '{}'", what, printable(v));
        if (n > (max - uint64_t(c - '0')) / 10) failData("{}: PAX number '{}' exceeds {}", what, printable(v), max);
        n = n * 10 + uint64_t(c - '0');
    }
    return n;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int b64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}
int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string base64Decode(std::string_view v, const std::string& what) {
    // libarchive writes LIBARCHIVE.xattr values without padding; accept both.
    size_t n = v.size();
    while (n > 0 && v[n - 1] == '=' && v.size() - n < 2) --n;
    if (v.size() % 4 != 0 && n != v.size()) failData("{}: malformed base64 value", what);
    if (n % 4 == 1) failData("{}: malformed base64 value (length)", what);
    std::string out;
    out.reserve(n * 3 / 4);
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; ++i) {
        int x = b64Value(v[i]);
        if (x < 0) failData("{}: malformed base64 value (character {})", what, i);
        acc = (acc << 6) | uint32_t(x);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return out;
}

std::string base64Encode(std::string_view b) {
    std::string out;
    out.reserve((b.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= b.size(); i += 3) {
        uint32_t x = (uint32_t(uint8_t(b[i])) << 16) | (uint32_t(uint8_t(b[i + 1])) << 8) | uint8_t(b[i + 2]);
        out += kB64[x >> 18];
        out += kB64[(x >> 12) & 63];
        out += kB64[(x >> 6) & 63];
        out += kB64[x & 63];
    }
    if (b.size() - i == 1) {
        uint32_t x = uint32_t(uint8_t(b[i])) << 16;
        out += kB64[x >> 18];
        out += kB64[(x >> 12) & 63];
        out += "==";
    } else if (b.size() - i == 2) {
        uint32_t x = (uint32_t(uint8_t(b[i])) << 16) | (uint32_t(uint8_t(b[i + 1])) << 8);
        out += kB64[x >> 18];
        out += kB64[(x >> 12) & 63];
        out += kB64[(x >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string urlDecode(std::string_view v, const std::string& what) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '%') {
            out.push_back(v[i]);
            continue;
        }
        if (i + 2 >= v.size()) failData("{}: malformed %-escape in '{}'", what, printable(v));
        int h = hexValue(v[i + 1]), l = hexValue(v[i + 2]);
        if (h < 0 || l < 0) failData("{}: malformed %-escape in '{}'", what, printable(v));
        out.push_back(static_cast<char>(h * 16 + l));
        i += 2;
    }
    return out;
}

std::string urlEncode(std::string_view v) {
    std::string out;
    for (unsigned char c : v) {
        if (c <= 0x20 || c >= 0x7F || c == '%' || c == '=') out += fmt::format("%{:02X}", c);
        else out.push_back(static_cast<char>(c));
    }
    return out;
}

std::string printable(std::string_view raw, size_t max) {
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
        if (out.size() >= max) {
            out += "...";
            break;
        }
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c < 0x20 || c == 0x7F || c == '\\') out += fmt::format("\\x{:02x}", c);
        else out.push_back(static_cast<char>(c));
    }
    return out;
}

}  // namespace cim::layer
