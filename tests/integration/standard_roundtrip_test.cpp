// A randomized round trip through the ABI: over 10,000 names (nested directories, files from 0 B
// to 8 MiB, hard links, alternate streams, security descriptors, EAs, reparse points, times and
// attributes, plus replacements and deletions) are written into a standard CIM while an
// in-memory model records what the image must contain; after commit the image is reopened and
// compared with the model entry by entry. The seed is printed; OPENCIM_ITEST_SEED replays a run.
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include "test_util.h"

using namespace itest;

namespace {

// ---- names: code points, UTF-8 and the case-insensitive key that orders a directory ----

// Upper case of the few non-ASCII letters the generator uses; everything else maps to itself.
char32_t upcase(char32_t c) {
    if (c >= U'a' && c <= U'z') return c - 32;
    switch (c) {
    case U'\u00E4': return U'\u00C4';  // ä
    case U'\u00E9': return U'\u00C9';  // é
    case U'\u0436': return U'\u0416';  // ж
    case U'\u03C9': return U'\u03A9';  // ω
    default: return c;
    }
}
using Key = std::u32string;  // upcased code points; std::map order = the CIM's directory order
Key keyOf(const std::u32string& name) {
    Key k = name;
    for (auto& c : k) c = upcase(c);
    return k;
}
std::string utf8(const std::u32string& s) {
    std::string o;
    for (char32_t c : s) {
        if (c < 0x80) {
            o += static_cast<char>(c);
        } else if (c < 0x800) {
            o += static_cast<char>(0xC0 | (c >> 6));
            o += static_cast<char>(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            o += static_cast<char>(0xE0 | (c >> 12));
            o += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (c & 0x3F));
        } else {
            o += static_cast<char>(0xF0 | (c >> 18));
            o += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
            o += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
            o += static_cast<char>(0x80 | (c & 0x3F));
        }
    }
    return o;
}
size_t utf16Units(const std::u32string& s) {
    size_t n = 0;
    for (char32_t c : s) n += c >= 0x10000 ? 2 : 1;
    return n;
}

// ---- metadata blobs ----

std::vector<uint8_t> sid(uint8_t authority, std::vector<uint32_t> subs) {
    std::vector<uint8_t> s = {1, static_cast<uint8_t>(subs.size()), 0, 0, 0, 0, 0, authority};
    for (uint32_t v : subs) {
        for (int i = 0; i < 4; ++i) s.push_back(static_cast<uint8_t>(v >> (8 * i)));
    }
    return s;
}
void put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { b[at] = v & 0xFF, b[at + 1] = static_cast<uint8_t>(v >> 8); }
void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

struct Ace {
    uint8_t flags;
    uint32_t mask;
    std::vector<uint8_t> sid;
};
// A self-relative security descriptor: header, owner, group, DACL of ACCESS_ALLOWED ACEs.
std::vector<uint8_t> securityDescriptor(const std::vector<uint8_t>& owner, const std::vector<uint8_t>& group,
                                        const std::vector<Ace>& aces) {
    std::vector<uint8_t> sd(20);
    sd[0] = 1;
    put16(sd, 2, 0x8004);  // SE_SELF_RELATIVE | SE_DACL_PRESENT
    put32(sd, 4, 20);
    sd.insert(sd.end(), owner.begin(), owner.end());
    put32(sd, 8, static_cast<uint32_t>(20 + owner.size()));
    sd.insert(sd.end(), group.begin(), group.end());
    size_t acl = sd.size();
    put32(sd, 16, static_cast<uint32_t>(acl));
    sd.resize(acl + 8);
    sd[acl] = 2;
    for (const auto& a : aces) {
        size_t at = sd.size();
        sd.resize(at + 8);
        sd[at + 1] = a.flags;
        put16(sd, at + 2, static_cast<uint16_t>(8 + a.sid.size()));
        put32(sd, at + 4, a.mask);
        sd.insert(sd.end(), a.sid.begin(), a.sid.end());
    }
    put16(sd, acl + 2, static_cast<uint16_t>(sd.size() - acl));
    put16(sd, acl + 4, static_cast<uint16_t>(aces.size()));
    return sd;
}

std::vector<std::vector<uint8_t>> securityDescriptors() {
    std::vector<uint8_t> nullDacl(20, 0);
    nullDacl[0] = 1, nullDacl[2] = 0x04, nullDacl[3] = 0x80;  // hcsshim's D:NO_ACCESS_CONTROL
    auto system = sid(5, {18}), admins = sid(5, {32, 544}), users = sid(5, {32, 545}), everyone = sid(1, {0});
    auto user = sid(5, {21, 1111, 2222, 3333, 1001}), domainUsers = sid(5, {21, 1111, 2222, 3333, 513});
    return {nullDacl,
            securityDescriptor(system, system, {{0, 0x10000000, everyone}}),
            securityDescriptor(admins, system, {{0, 0x1F01FF, system}, {0, 0x1F01FF, admins}, {0, 0x1200A9, users}}),
            securityDescriptor(user, domainUsers, {{0x3, 0x1F01FF, user}, {0x3 | 0x8, 0x1200A9, everyone}})};
}

// A FILE_FULL_EA_INFORMATION chain: entries padded to 4 bytes, the last one's NextEntryOffset 0.
std::vector<uint8_t> randomEaChain(SplitMix64& rng) {
    static const char kNameChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.$";
    std::vector<uint8_t> out;
    std::vector<std::string> used;
    size_t n = rng.range(1, 4);
    for (size_t i = 0; i < n; ++i) {
        std::string name;
        do {
            name.clear();
            for (size_t k = rng.range(1, 16); k > 0; --k) name += kNameChars[rng.below(sizeof kNameChars - 1)];
        } while (std::find(used.begin(), used.end(), name) != used.end());
        used.push_back(name);
        size_t valueLen = rng.chance(0.1) ? rng.range(300, 2000) : rng.range(0, 64);
        size_t start = out.size();
        size_t len = 8 + name.size() + 1 + valueLen;
        out.resize(start + len);
        out[start + 4] = rng.chance(0.2) ? 0x80 : 0;  // FILE_NEED_EA
        out[start + 5] = static_cast<uint8_t>(name.size());
        put16(out, start + 6, static_cast<uint16_t>(valueLen));
        std::memcpy(&out[start + 8], name.data(), name.size());
        for (size_t k = 0; k < valueLen; ++k) out[start + 9 + name.size() + k] = static_cast<uint8_t>(rng.next());
        if (i + 1 < n) {
            size_t padded = (len + 3) & ~size_t(3);
            out.resize(start + padded);
            put32(out, start, static_cast<uint32_t>(padded));
        }
    }
    return out;
}

std::vector<uint8_t> reparseBuffer(uint32_t tag, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> b(8);
    put32(b, 0, tag);
    put16(b, 4, static_cast<uint16_t>(data.size()));
    b.insert(b.end(), data.begin(), data.end());
    return b;
}
// IO_REPARSE_TAG_SYMLINK or, for directories, IO_REPARSE_TAG_MOUNT_POINT; or a WSL symlink.
std::vector<uint8_t> randomReparse(SplitMix64& rng, bool dir) {
    std::u16string print = u"C:\\target\\";
    for (size_t k = rng.range(1, 40); k > 0; --k) print += static_cast<char16_t>(u'a' + rng.below(26));
    std::u16string subst = u"\\??\\" + print;
    auto bytes16 = [](const std::u16string& s) {
        return std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), reinterpret_cast<const uint8_t*>(s.data() + s.size()));
    };
    if (!dir && rng.chance(0.25)) {  // IO_REPARSE_TAG_LX_SYMLINK: version 2, UTF-8 target
        std::vector<uint8_t> d = {2, 0, 0, 0};
        std::string t = "../some/target/" + std::to_string(rng.below(100000));
        d.insert(d.end(), t.begin(), t.end());
        return reparseBuffer(0xA000001D, d);
    }
    bool mount = dir && rng.chance(0.5);
    std::vector<uint8_t> d(mount ? 8 : 12);
    uint16_t sLen = static_cast<uint16_t>(subst.size() * 2), pLen = static_cast<uint16_t>(print.size() * 2);
    put16(d, 0, 0);
    put16(d, 2, sLen);
    put16(d, 4, sLen);
    put16(d, 6, pLen);
    if (!mount) put32(d, 8, rng.chance(0.5) ? 1 : 0);  // SYMLINK_FLAG_RELATIVE
    auto s = bytes16(subst), p = bytes16(print);
    d.insert(d.end(), s.begin(), s.end());
    d.insert(d.end(), p.begin(), p.end());
    return reparseBuffer(mount ? 0xA0000003 : 0xA000000C, d);
}

// ---- file content: a pure function of (seed, offset), so nothing large is kept in memory ----

void content(uint64_t seed, uint64_t offset, uint8_t* out, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint64_t pos = offset + i;
        SplitMix64 m(seed ^ ((pos >> 3) * 0xD6E8FEB86659FD93ull));
        uint64_t v = m.next();
        for (unsigned b = pos & 7; b < 8 && i < n; ++b) out[i++] = static_cast<uint8_t>(v >> (8 * b));
    }
}

// ---- the model ----

struct Stream {
    std::string name;
    uint64_t size = 0, seed = 0;
};

struct Obj {
    bool dir = false;
    bool gone = false;  // a directory deleted with its subtree
    uint32_t attributes = 0;
    int64_t times[4] = {};
    int sd = -1;
    std::vector<uint8_t> ea, reparse;
    uint64_t size = 0, seed = 0;
    std::map<Key, Stream> streams;
    struct Entry {
        std::string name;
        std::shared_ptr<Obj> obj;
    };
    std::map<Key, Entry> children;

    uint32_t expectedAttributes() const {
        return (attributes & kStoredAttrMask) | (dir ? kAttrDirectory : 0) | (reparse.empty() ? 0 : kAttrReparsePoint);
    }
    uint32_t reparseTag() const {
        if (reparse.empty()) return 0;
        uint32_t t;
        std::memcpy(&t, reparse.data(), 4);
        return t;
    }
};
using ObjPtr = std::shared_ptr<Obj>;

// A name as created; still valid while its parent is live and still maps the key to the object.
struct NameRef {
    ObjPtr parent;
    Key key;
    std::string path;
    ObjPtr obj;
    bool valid() const {
        if (parent->gone) return false;
        auto it = parent->children.find(key);
        return it != parent->children.end() && it->second.obj == obj;
    }
};

class RoundTrip : public ::testing::Test {
protected:
    static constexpr size_t kTargetNames = 10000;
    static constexpr uint64_t kDataBudget = 160ull << 20;

    void SetUp() override {
        seed_ = testSeed(0x0C1A5EED);
        rng_ = std::make_unique<SplitMix64>(seed_);
        sds_ = securityDescriptors();
        root_ = std::make_shared<Obj>();
        root_->dir = true;
        dirs_.push_back({nullptr, {}, "", root_});
        buffer_.resize(1 << 20);
    }

    SplitMix64& rng() { return *rng_; }

    std::string join(const std::string& parent, const std::string& name) {
        if (parent.empty()) return rng().chance(0.1) ? (rng().chance(0.5) ? "\\" : "/") + name : name;
        return parent + (rng().chance(0.7) ? "\\" : "/") + name;
    }

    std::u32string randomName() {
        static const char32_t kAscii[] = U"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.+=,;'[]{}()!@#$%^&~`";
        static const char32_t kOther[] = U"\u00E4\u00C4\u00E9\u00C9\u0436\u0416\u03C9\u03A9\u4E2D\U0001F600";
        for (;;) {
            size_t len = rng().chance(0.85) ? rng().range(1, 24) : rng().chance(0.67) ? rng().range(25, 100) : rng().range(200, 255);
            bool wide = len <= 100 && rng().chance(0.2);
            std::u32string n;
            for (size_t i = 0; i < len; ++i) {
                n += wide && rng().chance(0.3) ? kOther[rng().below(std::size(kOther) - 1)] : kAscii[rng().below(std::size(kAscii) - 1)];
            }
            if (n == U"." || n == U".." || utf16Units(n) > 255) continue;
            return n;
        }
    }

    // A fresh name for `dir` (unique under case-insensitive comparison).
    std::u32string freshName(const Obj& dir) {
        for (;;) {
            std::u32string n = randomName();
            if (!dir.children.count(keyOf(n))) return n;
        }
    }

    void randomMetadata(Obj& o, CIMFS_FILE_METADATA& md) {
        uint32_t a = 0;
        if (rng().chance(0.3)) a |= kAttrReadOnly;
        if (rng().chance(0.2)) a |= kAttrHidden;
        if (rng().chance(0.1)) a |= kAttrSystem;
        if (rng().chance(0.5)) a |= kAttrArchive;
        if (rng().chance(0.03)) a |= kAttrSparse;
        if (rng().chance(0.1)) a |= kAttrNormal;  // dropped by the format
        if (rng().chance(0.03)) a |= kAttrTemporary;
        if (rng().chance(0.1)) a |= kAttrNotContentIndexed;
        o.attributes = a | (o.dir ? kAttrDirectory : 0);
        for (auto& t : o.times) {
            double p = static_cast<double>(rng().below(1000)) / 1000.0;
            t = p < 0.75   ? filetimeFromUnix(static_cast<int64_t>(rng().range(631152000, 1893456000)),
                                              static_cast<uint32_t>(rng().below(10000000)) * 100)
                : p < 0.93 ? static_cast<int64_t>(rng().below(uint64_t(1) << 62))
                : p < 0.98 ? 0
                           : INT64_MAX;
        }
        o.sd = rng().chance(0.9) ? static_cast<int>(rng().below(sds_.size())) : -1;
        if (rng().chance(0.15)) o.ea = randomEaChain(rng());
        if (rng().chance(0.05)) {
            o.reparse = randomReparse(rng(), o.dir);
            if (rng().chance(0.5)) o.attributes |= kAttrReparsePoint;
        }
        md = CIMFS_FILE_METADATA{};
        md.Attributes = o.attributes;
        md.FileSize = static_cast<int64_t>(o.size);
        md.CreationTime = o.times[0];
        md.LastWriteTime = o.times[1];
        md.ChangeTime = o.times[2];
        md.LastAccessTime = o.times[3];
        if (o.sd >= 0) {
            md.SecurityDescriptorBuffer = sds_[o.sd].data();
            md.SecurityDescriptorSize = static_cast<uint32_t>(sds_[o.sd].size());
        }
        if (!o.ea.empty()) {
            md.ExtendedAttributes = o.ea.data();
            md.EACount = static_cast<uint32_t>(o.ea.size());
        }
        if (!o.reparse.empty()) {
            md.ReparseDataBuffer = o.reparse.data();
            md.ReparseDataSize = static_cast<uint32_t>(o.reparse.size());
        }
    }

    // Writes `size` bytes of content(seed) to a stream in random-sized pieces, then closes it.
    void writeContent(CIMFS_STREAM_HANDLE s, uint64_t size, uint64_t seed) {
        uint64_t off = 0;
        while (off < size) {
            uint64_t piece = std::min<uint64_t>(size - off, buffer_.size());
            if (rng().chance(0.5)) piece = rng().range(1, piece);
            content(seed, off, buffer_.data(), piece);
            ASSERT_OK(CimWriteStream(s, buffer_.data(), static_cast<uint32_t>(piece)));
            off += piece;
        }
        ASSERT_OK(CimCloseStream(s));
        dataBytes_ += size;
    }

    uint64_t randomSize() {
        if (dataBytes_ > kDataBudget) return rng().below(512);
        double p = static_cast<double>(rng().below(10000)) / 10000.0;
        if (p < 0.05) return 0;
        if (p < 0.45) return rng().range(1, 100);
        if (p < 0.80) return rng().range(101, 4095);
        if (p < 0.84) return 4096;
        if (p < 0.985) return rng().range(4097, 65536);
        return rng().range(65537, 1 << 20);
    }

    ObjPtr randomLiveDir(std::string* path) {
        for (;;) {
            size_t i = rng().chance(0.3) && dirs_.size() > 50 ? dirs_.size() - 1 - rng().below(50) : rng().below(dirs_.size());
            auto& d = dirs_[i];
            if (d.obj == root_ || d.valid()) {
                *path = d.path;
                return d.obj;
            }
        }
    }
    const NameRef* randomLiveFile() {
        for (int tries = 0; tries < 1000 && !files_.empty(); ++tries) {
            const NameRef& f = files_[rng().below(files_.size())];
            if (f.valid()) return &f;
        }
        return nullptr;
    }
    const NameRef* randomLiveDirRef() {
        for (int tries = 0; tries < 1000 && dirs_.size() > 1; ++tries) {
            const NameRef& d = dirs_[1 + rng().below(dirs_.size() - 1)];
            if (d.valid()) return &d;
        }
        return nullptr;
    }

    static size_t countNames(const Obj& dir) {
        size_t n = dir.children.size();
        for (const auto& [k, e] : dir.children) {
            if (e.obj->dir) n += countNames(*e.obj);
        }
        return n;
    }
    static void markGone(Obj& dir) {
        dir.gone = true;
        for (auto& [k, e] : dir.children) {
            if (e.obj->dir) markGone(*e.obj);
        }
    }

    // ---- operations ----

    void makeDir() {
        std::string parentPath;
        ObjPtr parent = randomLiveDir(&parentPath);
        auto name = freshName(*parent);
        auto o = std::make_shared<Obj>();
        o->dir = true;
        CIMFS_FILE_METADATA md;
        randomMetadata(*o, md);
        std::string path = join(parentPath, utf8(name));
        CIMFS_STREAM_HANDLE s = nullptr;
        bool wantStream = rng().chance(0.3);
        ASSERT_OK(CimCreateFile(img_, path.c_str(), &md, wantStream ? &s : nullptr)) << path;
        if (s) {
            ASSERT_OK(CimCloseStream(s));
        }
        parent->children[keyOf(name)] = {utf8(name), o};
        dirs_.push_back({parent, keyOf(name), path, o});
        ++names_, ++stats_.dirs;
    }

    void makeFile(uint64_t size) {
        std::string parentPath;
        ObjPtr parent = randomLiveDir(&parentPath);
        Key key;
        std::string nameUtf8;
        bool replace = false;
        if (rng().chance(0.03)) {
            // Over an existing file of that directory, by its stored name: the file is replaced.
            std::vector<const std::pair<const Key, Obj::Entry>*> candidates;
            for (const auto& kv : parent->children) {
                if (!kv.second.obj->dir) candidates.push_back(&kv);
            }
            if (!candidates.empty()) {
                const auto* c = candidates[rng().below(candidates.size())];
                key = c->first;
                nameUtf8 = c->second.name;
                replace = true;
                ++stats_.replaced;
            }
        }
        if (!replace) {
            auto name = freshName(*parent);
            nameUtf8 = utf8(name);
            key = keyOf(name);
        }
        auto o = std::make_shared<Obj>();
        o->size = size;
        if (!contents_.empty() && rng().chance(0.05)) {
            auto& [s, seed] = contents_[rng().below(contents_.size())];  // identical content: deduplicated
            o->size = s;
            o->seed = seed;
        } else {
            o->seed = rng().next();
            contents_.emplace_back(o->size, o->seed);
        }
        CIMFS_FILE_METADATA md;
        randomMetadata(*o, md);
        std::string path = join(parentPath, nameUtf8);
        CIMFS_STREAM_HANDLE s = nullptr;
        bool needStream = o->size > 0 || rng().chance(0.5);
        ASSERT_OK(CimCreateFile(img_, path.c_str(), &md, needStream ? &s : nullptr)) << path;
        if (s) writeContent(s, o->size, o->seed);
        if (HasFatalFailure()) return;
        if (!replace) ++names_;
        parent->children[key] = {nameUtf8, o};
        files_.push_back({parent, key, path, o});
        ++stats_.files;
    }

    void makeHardLink() {
        const NameRef* target = randomLiveFile();
        if (!target) return;
        ObjPtr obj = target->obj;
        std::string targetPath = target->path;
        std::string parentPath;
        ObjPtr parent = randomLiveDir(&parentPath);
        std::u32string name = freshName(*parent);
        std::string path = join(parentPath, utf8(name));
        ASSERT_OK(CimCreateHardLink(img_, path.c_str(), targetPath.c_str())) << path << " -> " << targetPath;
        parent->children[keyOf(name)] = {utf8(name), obj};
        files_.push_back({parent, keyOf(name), path, obj});
        ++names_, ++stats_.links;
    }

    void makeStream() {
        const NameRef* owner = rng().chance(0.8) ? randomLiveFile() : randomLiveDirRef();
        if (!owner) return;
        ObjPtr obj = owner->obj;
        Stream st;
        Key key;
        if (!obj->streams.empty() && rng().chance(0.1)) {
            auto it = std::next(obj->streams.begin(), static_cast<long>(rng().below(obj->streams.size())));
            key = it->first;  // recreated: replaces the stream
            st.name = it->second.name;
        } else {
            std::u32string name;
            do {
                name = randomName();
            } while (name.size() > 60 || obj->streams.count(keyOf(name)));
            key = keyOf(name);
            st.name = utf8(name);
        }
        st.size = rng().chance(0.05) ? rng().range(4096, 100000) : rng().below(3000);
        st.seed = rng().next();
        std::string path = owner->path + ":" + st.name + (rng().chance(0.3) ? ":$DATA" : "");
        CIMFS_STREAM_HANDLE s = nullptr;
        ASSERT_OK(CimCreateAlternateStream(img_, path.c_str(), st.size, &s)) << path;
        writeContent(s, st.size, st.seed);
        if (HasFatalFailure()) return;
        obj->streams[key] = st;
        ++stats_.streams;
    }

    void deleteSomething() {
        double p = static_cast<double>(rng().below(100)) / 100.0;
        if (p < 0.7) {
            const NameRef* f = randomLiveFile();
            if (!f) return;
            ASSERT_OK(CimDeletePath(img_, f->path.c_str())) << f->path;
            f->parent->children.erase(f->key);
            --names_, ++stats_.deletedFiles;
        } else if (p < 0.85) {
            const NameRef* f = randomLiveFile();
            if (!f || f->obj->streams.empty()) return;
            auto it = std::next(f->obj->streams.begin(), static_cast<long>(rng().below(f->obj->streams.size())));
            std::string path = f->path + ":" + it->second.name;
            ASSERT_OK(CimDeletePath(img_, path.c_str())) << path;
            f->obj->streams.erase(it);
            ++stats_.deletedStreams;
        } else {
            const NameRef* d = randomLiveDirRef();
            if (!d || countNames(*d->obj) > 200) return;
            ASSERT_OK(CimDeletePath(img_, d->path.c_str())) << d->path;
            names_ -= 1 + countNames(*d->obj);
            markGone(*d->obj);
            d->parent->children.erase(d->key);
            ++stats_.deletedDirs;
        }
    }

    // Directory over directory: new metadata, same children.
    void redoDir() {
        const NameRef* d = randomLiveDirRef();
        if (!d) return;
        CIMFS_FILE_METADATA md;
        ObjPtr o = d->obj;
        o->ea.clear();
        o->reparse.clear();
        randomMetadata(*o, md);
        ASSERT_OK(CimCreateFile(img_, d->path.c_str(), &md, nullptr)) << d->path;
        ++stats_.redoneDirs;
    }

    // ---- verification ----

    void compareInfo(const CIMFS_FILE_INFO& got, const Obj& o, const std::string& path) {
        EXPECT_EQ(got.Attributes, o.expectedAttributes()) << path;
        EXPECT_EQ(got.FileSize, o.dir ? 0 : static_cast<int64_t>(o.size)) << path;
        EXPECT_EQ(got.CreationTime, o.times[0]) << path;
        EXPECT_EQ(got.LastWriteTime, o.times[1]) << path;
        EXPECT_EQ(got.ChangeTime, o.times[2]) << path;
        EXPECT_EQ(got.LastAccessTime, o.times[3]) << path;
        EXPECT_EQ(got.LinkCount, linkCounts_[&o]) << path;
        EXPECT_EQ(got.ReparseTag, o.reparseTag()) << path;
        auto [it, fresh] = idOf_.emplace(&o, got.FileId);
        EXPECT_EQ(it->second, got.FileId) << path << ": hard links must share one FileId";
        auto [back, fresh2] = objOf_.emplace(got.FileId, &o);
        EXPECT_EQ(back->second, &o) << path << ": two different files share FileId " << got.FileId;
        (void)fresh, (void)fresh2;
    }

    void compareData(const std::string& path, uint64_t size, uint64_t seed, bool full) {
        std::vector<uint8_t> got(std::min<uint64_t>(size, 1 << 20) + 64), want(got.size());
        auto check = [&](uint64_t off, uint32_t len) {
            uint32_t n = 0;
            ASSERT_OK(CimReadFile(reader_, path.c_str(), off, got.data(), len, &n)) << path;
            uint64_t expectN = off >= size ? 0 : std::min<uint64_t>(len, size - off);
            ASSERT_EQ(n, expectN) << path << " at " << off;
            content(seed, off, want.data(), n);
            ASSERT_EQ(std::memcmp(got.data(), want.data(), n), 0) << path << ": data differs in [" << off << ", " << off + n << ")";
            bytesRead_ += n;
        };
        if (full || size <= 256 * 1024) {
            // In random pieces from the start; the last read crosses the end.
            uint64_t off = 0;
            do {
                uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(got.size(), rng().chance(0.5) ? got.size() : rng().range(1, got.size())));
                check(off, len);
                if (::testing::Test::HasFatalFailure()) return;
                off += len;
            } while (off < size);
            check(size, 16);
        } else {
            check(0, 65536);
            check(size - 1000, 4096);
            for (int i = 0; i < 4 && !::testing::Test::HasFatalFailure(); ++i) {
                check(rng().below(size), static_cast<uint32_t>(rng().range(1, 256 * 1024)));
            }
        }
    }

    void compareBlob(BlobGetter get, const std::string& path, const std::vector<uint8_t>& want, const char* what) {
        HRESULT hr = kOk;
        auto got = getBlob(get, reader_, path.c_str(), &hr);
        EXPECT_EQ(hr, kOk) << what << " " << path;
        EXPECT_EQ(got, want) << what << " " << path;
    }

    void compareObject(const Obj& o, const std::string& path) {
        // Metadata blobs and streams for every name; data once per file (then a quick check).
        static const std::vector<uint8_t> none;
        compareBlob(CimGetSecurityDescriptor, path, o.sd >= 0 ? sds_[o.sd] : none, "security descriptor");
        compareBlob(CimGetExtendedAttributes, path, o.ea, "EA");
        compareBlob(CimGetReparseData, path, o.reparse, "reparse");
        bool first = verified_.insert(&o).second;
        if (!o.dir) compareData(path, o.size, o.seed, first && o.size >= (1 << 20));
        // Streams, in the directory's order.
        std::vector<std::pair<std::string, uint64_t>> got, want;
        for (uint32_t i = 0;; ++i) {
            char name[1024];
            uint32_t n = sizeof name;
            uint64_t size = 0;
            HRESULT hr = CimEnumerateAlternateStreams(reader_, path.c_str(), i, name, &n, &size);
            if (hr == kNoMoreFiles) break;
            ASSERT_OK(hr) << path;
            got.emplace_back(name, size);
        }
        for (const auto& [k, s] : o.streams) want.emplace_back(s.name, s.size);
        ASSERT_EQ(got, want) << path << ": alternate streams";
        if (first) {
            for (const auto& [k, s] : o.streams) {
                compareData(path + ":" + s.name, s.size, s.seed, false);
                ++streamsChecked_;
            }
        }
    }

    void compareDir(const Obj& dir, const std::string& path) {
        HRESULT hr = kOk;
        auto entries = listImageDir(reader_, path.c_str(), &hr);
        ASSERT_EQ(hr, kOk) << path;
        std::vector<std::string> want;
        for (const auto& [k, e] : dir.children) want.push_back(e.name);
        ASSERT_EQ(namesOf(entries), want) << "directory " << (path.empty() ? "\\" : path) << " (sorted case-insensitively)";
        size_t i = 0;
        for (const auto& [k, e] : dir.children) {
            std::string child = path.empty() ? e.name : path + "\\" + e.name;
            compareInfo(entries[i++].info, *e.obj, child);
            CIMFS_FILE_INFO st;
            ASSERT_OK(statPath(reader_, child.c_str(), &st)) << child;
            compareInfo(st, *e.obj, child);
            compareObject(*e.obj, child);
            if (::testing::Test::HasFatalFailure()) return;
            ++entriesChecked_;
            if (e.obj->dir) compareDir(*e.obj, child);
            if (::testing::Test::HasFatalFailure()) return;
        }
    }

    void countLinks(const Obj& dir) {
        for (const auto& [k, e] : dir.children) {
            ++linkCounts_[e.obj.get()];
            if (e.obj->dir) countLinks(*e.obj);
        }
    }

    uint64_t seed_ = 0;
    std::unique_ptr<SplitMix64> rng_;
    TempDir dir_;
    ImageHandle img_;
    ReaderHandle reader_;
    std::vector<std::vector<uint8_t>> sds_;
    ObjPtr root_;
    std::vector<NameRef> dirs_, files_;
    std::vector<std::pair<uint64_t, uint64_t>> contents_;  // (size, seed) of files written
    std::vector<uint8_t> buffer_;
    size_t names_ = 0;
    uint64_t dataBytes_ = 0, bytesRead_ = 0;
    struct {
        size_t dirs = 0, files = 0, links = 0, streams = 0, replaced = 0, deletedFiles = 0, deletedStreams = 0, deletedDirs = 0,
               redoneDirs = 0;
    } stats_;
    std::unordered_map<const Obj*, uint32_t> linkCounts_;
    std::unordered_map<const Obj*, uint64_t> idOf_;
    std::unordered_map<uint64_t, const Obj*> objOf_;
    std::set<const Obj*> verified_;
    size_t entriesChecked_ = 0, streamsChecked_ = 0;
};

TEST_F(RoundTrip, TenThousandEntries) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_OK(CimCreateImage(dir_.c_str(), nullptr, "roundtrip.cim", img_.out()));
    {
        CIMFS_FILE_METADATA md;
        randomMetadata(*root_, md);
        root_->reparse.clear();
        md.ReparseDataBuffer = nullptr;
        md.ReparseDataSize = 0;
        ASSERT_OK(CimCreateFile(img_, "", &md, nullptr));
    }
    // A handful of large files at fixed points of the run.
    std::set<size_t> largeAt;
    while (largeAt.size() < 6) largeAt.insert(rng().range(100, 9000));
    for (size_t op = 0; names_ < kTargetNames; ++op) {
        if (largeAt.count(op)) {
            makeFile(rng().range(1 << 20, 8 << 20));
        } else {
            double p = static_cast<double>(rng().below(10000)) / 10000.0;
            if (p < 0.15) makeDir();
            else if (p < 0.82) makeFile(randomSize());
            else if (p < 0.90) makeHardLink();
            else if (p < 0.97) makeStream();
            else if (p < 0.995) deleteSomething();
            else redoDir();
        }
        if (HasFatalFailure()) return;
    }
    ASSERT_OK(CimCommitImage(img_));
    img_.reset();
    auto t1 = std::chrono::steady_clock::now();

    // On disk: <name>.cim plus one region set, named after the GUID in its header.
    auto header = readCimHeader(dir_ / "roundtrip.cim");
    EXPECT_TRUE(header.parentSets.empty());
    ASSERT_GT(header.ownCount, 0);
    std::vector<std::string> want = {"roundtrip.cim"};
    for (int i = 0; i < header.ownCount; ++i) {
        want.push_back("region_" + header.ownSet + "_" + std::to_string(i));
        want.push_back("objectid_" + header.ownSet + "_" + std::to_string(i));
    }
    std::sort(want.begin(), want.end());
    EXPECT_EQ(dir_.list(), want);
    for (char c : header.ownSet) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-') << header.ownSet;

    ASSERT_OK(CimOpenImage(dir_.c_str(), "roundtrip.cim", 0, reader_.out()));
    linkCounts_[root_.get()] = 1;
    countLinks(*root_);
    CIMFS_FILE_INFO root;
    ASSERT_OK(statPath(reader_, "", &root));
    compareInfo(root, *root_, "\\");
    compareObject(*root_, "");
    compareDir(*root_, "");
    auto t2 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count()); };
    std::printf("[ info     ] %zu names (%zu dirs, %zu files, %zu hard links; %zu replaced, %zu deleted files, %zu deleted "
                "subtrees, %zu directories recreated), %zu streams created (%zu deleted), %llu MiB of data; write+commit "
                "%lld ms, verify %lld ms (%zu entries, %zu streams, %llu MiB read)\n",
                names_, stats_.dirs, stats_.files, stats_.links, stats_.replaced, stats_.deletedFiles, stats_.deletedDirs,
                stats_.redoneDirs, stats_.streams, stats_.deletedStreams, static_cast<unsigned long long>(dataBytes_ >> 20),
                ms(t0, t1), ms(t1, t2), entriesChecked_, streamsChecked_, static_cast<unsigned long long>(bytesRead_ >> 20));
    EXPECT_EQ(entriesChecked_, names_);
    EXPECT_GE(entriesChecked_, kTargetNames);
}

}  // namespace
