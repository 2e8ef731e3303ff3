// The hostile input corpus (tests/hostile/) fed to the C ABI. Tars are committed
// (tests/hostile/tars, manifest.tsv); crafted images are generated at test time by
// tests/hostile/make_hostile.py --images (pristine images written through this very libopencim
// via ctypes, then damaged: overlapping regions, offsets past EOF, directory cycles, giant counts,
// bad UTF-16, wrong magic/version, tampered seals, changed merge sources).
// Every case must behave as its manifest line says (stage / HRESULT / message substring), never
// crash or hang, write nothing outside its target directory (a canary directory is checked) and
// leave no partial output. The traversal used for images touches every reader API.
#include <dlfcn.h>
#include <sys/stat.h>

#include <map>
#include <sstream>

#include "test_util.h"

using namespace itest;

namespace {

struct Case {
    std::string name, kind, stage, substring;
    HRESULT hr = 0;
    std::map<std::string, std::string> opts;
};

std::string sourceDir() {
    std::string f = __FILE__;  // .../tests/integration/hostile_test.cpp (CMake passes absolute paths)
    return f.substr(0, f.rfind('/')) + "/../hostile";
}

std::vector<Case> readManifest(const std::string& path) {
    std::vector<Case> out;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t')) f.push_back(col);
        f.resize(6);
        Case c{f[0], f[1], f[2], f[4], static_cast<HRESULT>(std::stoul(f[3], nullptr, 16)), {}};
        std::stringstream os(f[5]);
        std::string kv;
        while (std::getline(os, kv, ';')) {
            auto eq = kv.find('=');
            if (eq != std::string::npos) c.opts[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<uint8_t> unhex(const std::string& s) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
    return out;
}

// Everything a reader can be asked, over the whole tree; collects every failure.
struct Traversal {
    CIMFS_READER_HANDLE r;
    std::vector<std::pair<HRESULT, std::string>> failures;
    std::set<uint64_t> visitedDirs;
    size_t calls = 0;

    void note(HRESULT hr) {
        ++calls;
        if (hr < 0) failures.emplace_back(hr, CimGetLastErrorMessage());
    }
    void file(const std::string& path, const CIMFS_FILE_INFO& info) {
        HRESULT hr;
        for (BlobGetter g : {BlobGetter(CimGetSecurityDescriptor), BlobGetter(CimGetExtendedAttributes), BlobGetter(CimGetReparseData)}) {
            getBlob(g, r, path.c_str(), &hr);
            note(hr);
        }
        for (uint32_t i = 0; i < 64; ++i) {
            char name[1024];
            uint32_t size = sizeof name;
            uint64_t ssize = 0;
            hr = CimEnumerateAlternateStreams(r, path.c_str(), i, name, &size, &ssize);
            if (hr == kNoMoreFiles) break;
            note(hr);
            if (hr < 0) break;
            std::string sp = path + ":" + name;
            readAll(r, sp.c_str(), &hr);
            note(hr);
        }
        if (info.Attributes & kAttrDirectory) {
            if (visitedDirs.insert(info.FileId).second) dir(path);
        } else {
            std::vector<char> buf(1 << 16);
            for (uint64_t off = 0; off < std::min<uint64_t>(uint64_t(info.FileSize), 4 << 20); off += buf.size()) {
                uint32_t n = 0;
                hr = CimReadFile(r, path.c_str(), off, buf.data(), static_cast<uint32_t>(buf.size()), &n);
                note(hr);
                if (hr < 0 || n < buf.size()) break;
            }
        }
    }
    void dir(const std::string& path) {
        for (uint32_t i = 0; i < 10000; ++i) {
            char name[4096];
            uint32_t size = sizeof name;
            CIMFS_FILE_INFO info = newInfo();
            HRESULT hr = CimEnumerateDirectory(r, path.c_str(), i, name, &size, &info);
            if (hr == kNoMoreFiles) break;
            note(hr);
            if (hr < 0) break;
            std::string child = path.empty() ? name : path + "/" + name;
            CIMFS_FILE_INFO st = newInfo();
            hr = CimStatPath(r, child.c_str(), &st);
            note(hr);
            file(child, hr == kOk ? st : info);
        }
    }
    void run() {
        CIMFS_FILE_INFO root = newInfo();
        HRESULT hr = CimStatPath(r, "", &root);
        note(hr);
        visitedDirs.insert(root.FileId);
        dir("");
    }
};

class Hostile : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        Dl_info info{};
        if (!::dladdr(reinterpret_cast<void*>(&CimCreateImage), &info) || !info.dli_fname) return;
        images_ = new TempDir;
        // In a sanitizer build libopencim needs the sanitizer runtime loaded first in python too.
        std::string env;
        for (const char* rt : {"__asan_init", "__tsan_init"}) {
            Dl_info ri{};
            if (void* sym = ::dlsym(RTLD_DEFAULT, rt); sym && ::dladdr(sym, &ri) && ri.dli_fname &&
                                                      std::string(ri.dli_fname).find(".so") != std::string::npos) {
                env = std::string("LD_PRELOAD='") + ri.dli_fname + "' ASAN_OPTIONS=detect_leaks=0 ";
            }
        }
        std::string cmd = env + "python3 '" + sourceDir() + "/make_hostile.py' --images '" + images_->path() + "/cases' --lib '" +
                          info.dli_fname + "' > '" + images_->path() + "/log' 2>&1";
        generated_ = std::system(cmd.c_str()) == 0;
        if (!generated_) {
            auto bytes = readHostFile(images_->path() + "/log");
            log_.assign(bytes.begin(), bytes.end());
        }
    }
    static void TearDownTestSuite() {
        delete images_;
        images_ = nullptr;
    }
    static TempDir* images_;
    static bool generated_;
    static std::string log_;
};
TempDir* Hostile::images_ = nullptr;
bool Hostile::generated_ = false;
std::string Hostile::log_;

// Checks a traversal against the case: read -> the expected code appears, no other code;
// tolerate -> only codes in allow=.
::testing::AssertionResult judge(const Case& c, const Traversal& t) {
    std::set<HRESULT> allowed;
    if (c.stage == "read") allowed.insert(c.hr);
    if (auto it = c.opts.find("allow"); it != c.opts.end()) {
        std::stringstream ss(it->second);
        std::string h;
        while (std::getline(ss, h, ',')) allowed.insert(static_cast<HRESULT>(std::stoul(h, nullptr, 16)));
    }
    bool sawExpected = false;
    for (const auto& [hr, msg] : t.failures) {
        if (msg.empty()) return ::testing::AssertionFailure() << hex(hr) << " without a message";
        if (!allowed.count(hr)) return ::testing::AssertionFailure() << "unexpected " << hex(hr) << ": " << msg;
        if (hr == c.hr && msg.find(c.substring) != std::string::npos) sawExpected = true;
    }
    if (c.stage == "read" && !sawExpected) {
        return ::testing::AssertionFailure() << "no call failed with " << hex(c.hr) << " '" << c.substring << "' (" << t.calls
                                             << " calls, " << t.failures.size() << " failures)";
    }
    return ::testing::AssertionSuccess();
}

}  // namespace

TEST_F(Hostile, CraftedImages) {
    if (!images_) GTEST_SKIP() << "skipped: cannot locate libopencim with dladdr";
    if (std::system("python3 -c 'import ctypes' >/dev/null 2>&1") != 0) GTEST_SKIP() << "skipped: python3 is not installed";
    ASSERT_TRUE(generated_) << "make_hostile.py --images failed:\n" << log_;
    std::string base = images_->path() + "/cases";
    auto cases = readManifest(base + "/manifest.tsv");
    ASSERT_GE(cases.size(), 50u);
    std::map<std::string, int> perStage;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name + " (" + c.kind + ", " + c.stage + ")");
        std::string d = base + "/" + c.name;
        auto before = TempDir::listDir(d);
        ReaderHandle r;
        HRESULT hr;
        if (c.kind == "standard") {
            hr = CimOpenImage(d.c_str(), "p.cim", 0, r.out());
        } else if (c.kind == "block") {
            std::string file = d + "/" + c.opts.at("file");
            if (c.opts.count("root")) {
                auto root = unhex(c.opts.at("root"));
                hr = CimOpenVerifiedImage(file.c_str(), c.opts.at("cim").c_str(), 0x20, 32, root.data(), r.out());
            } else {
                hr = CimOpenImage(file.c_str(), c.opts.at("cim").c_str(), 0x20, r.out());
            }
        } else {
            std::vector<std::string> dirs, names;
            std::stringstream ss(c.opts.at("paths"));
            std::string p;
            while (std::getline(ss, p, ',')) {
                dirs.push_back(d + "/" + p.substr(0, p.find(':')));
                names.push_back(p.substr(p.find(':') + 1));
            }
            std::vector<CIMFS_IMAGE_PATH> paths;
            for (size_t i = 0; i < dirs.size(); ++i) paths.push_back({dirs[i].c_str(), names[i].c_str()});
            hr = CimOpenMergedImage(static_cast<uint32_t>(paths.size()), paths.data(), 0x20, r.out());
        }
        ++perStage[c.stage];
        if (c.stage == "open") {
            EXPECT_TRUE(expectHr(hr, c.hr, c.substring));
            continue;
        }
        ASSERT_TRUE(expectHr(hr, kOk)) << "the image should open";
        Traversal t{r.get()};
        t.run();
        EXPECT_TRUE(judge(c, t));
        // Exporting walks the whole tree too: it must terminate (success or a clean error).
        std::string tar = images_->path() + "/export.tar";
        HRESULT ex = c.kind == "standard" ? CimExportLayer(d.c_str(), "p.cim", 0, CIM_LAYER_FORMAT_WINDOWS, tar.c_str())
                     : c.kind == "block"  ? CimExportLayer((d + "/" + c.opts.at("file")).c_str(), c.opts.at("cim").c_str(), 0x20,
                                                           CIM_LAYER_FORMAT_WINDOWS, tar.c_str())
                                          : kOk;
        if (ex < 0) {
            EXPECT_FALSE(std::string(CimGetLastErrorMessage()).empty());
        }
        ::unlink(tar.c_str());
        EXPECT_EQ(TempDir::listDir(d), before) << "reading changed the image directory";
    }
    std::printf("[ hostile  ] %zu crafted images: %d fail at open, %d fail on read, %d tolerated\n", cases.size(), perStage["open"],
                perStage["read"], perStage["tolerate"]);
}

TEST_F(Hostile, CraftedTars) {
    std::string tars = sourceDir() + "/tars";
    auto cases = readManifest(tars + "/manifest.tsv");
    ASSERT_GE(cases.size(), 40u);
    TempDir t;
    std::string canary = t / "canary", out = t / "out";
    fs::create_directories(canary);
    fs::create_directories(out);
    writeHostFile(canary + "/keep", {'k', 'e', 'e', 'p'});
    int failed = 0, confined = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        std::string target = out + "/" + c.name;
        fs::create_directories(target);
        CIMFS_IMPORT_OPTIONS o{};
        o.Size = sizeof o;
        o.Threads = 1;
        const std::string& f = c.opts.count("format") ? c.opts.at("format") : "auto";
        o.LayerFormat = f == "linux" ? CIM_LAYER_FORMAT_LINUX : f == "windows" ? CIM_LAYER_FORMAT_WINDOWS : CIM_LAYER_FORMAT_AUTO;
        if (c.opts.count("max")) o.MaxUncompressedBytes = std::stoull(c.opts.at("max"));
        std::string block = target + "/layer.bcim";
        HRESULT hr = CimImportLayer((tars + "/" + c.name).c_str(), block.c_str(), "layer.cim", &o, nullptr);
        std::string msg = CimGetLastErrorMessage();
        if (c.stage == "import") {
            ++failed;
            EXPECT_TRUE(expectHr(hr, c.hr, c.substring));
            EXPECT_EQ(TempDir::listDir(target), std::vector<std::string>{}) << "partial output left";
        } else {
            ++confined;
            ASSERT_TRUE(expectHr(hr, kOk));
            EXPECT_EQ(TempDir::listDir(target), std::vector<std::string>{"layer.bcim"});
            ReaderHandle r;
            ASSERT_OK(CimOpenImage(block.c_str(), "layer.cim", 0x20, r.out()));
            EXPECT_TRUE(exists(r, c.opts.at("path").c_str())) << "the entry did not land inside the image";
        }
        // Nothing outside the target: the canary and the tree around the targets are untouched.
        EXPECT_EQ(TempDir::listDir(t.path()), (std::vector<std::string>{"canary", "out"}));
        EXPECT_EQ(TempDir::listDir(canary), std::vector<std::string>{"keep"});
        EXPECT_EQ(readHostFile(canary + "/keep"), (std::vector<uint8_t>{'k', 'e', 'e', 'p'}));
        for (const char* p : {"/etc/evil", "/tmp/evil", "/pax-evil", "/evil"}) EXPECT_FALSE(fs::exists(p)) << p;
    }
    std::printf("[ hostile  ] %zu crafted tars: %d refused (0x8007000D or 0x80070032), %d confined inside the image\n", cases.size(), failed,
                confined);
}
