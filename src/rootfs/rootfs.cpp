#include "rootfs/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "block/block_image.h"
#include "block/seal.h"
#include "common/error.h"
#include "common/log.h"
#include "common/sha256.h"
#include "fuse/mount_point.h"
#include "fuse/volume_registry.h"
#include "io/file.h"
#include "merge/merge.h"
#include "opencim/cimfs.h"

namespace cim::rootfs {

namespace {

std::string hex(const uint8_t* p, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", p[i]);
    return s;
}

void validateContainerId(const std::string& id) {
    if (id.empty() || id.size() > 256) fail(hr::invalidArg, "container ID must be 1..256 characters");
    for (char c : id) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            fail(hr::invalidArg, "container ID '{}' may only contain letters, digits, '-', '_' and '.'", id);
        }
    }
}

std::string recordPath(const std::string& containerId) { return io::joinPath(stateDir(), containerId + ".json"); }

// An exclusive lock on a file, released on destruction (flock: dropped by the kernel if we die).
class FileLock {
public:
    explicit FileLock(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) failErrno(errno, "lock " + path);
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) failErrno(errno, "lock " + path);
        }
    }
    ~FileLock() { ::close(fd_); }

private:
    int fd_ = -1;
};

struct OpenedLayer {
    LayerRef ref;
    block::Hash identity{};
};

std::vector<OpenedLayer> checkLayers(const LayerDescription& d) {
    std::vector<OpenedLayer> out;
    for (size_t i = 0; i < d.layers.size(); ++i) {
        const auto& l = d.layers[i];
        try {
            auto c = block::Container::open(l.blockPath, l.rootHash ? &*l.rootHash : nullptr);
            auto desc = c->descriptor(c->find(l.cimName));
            if (!desc.sources.empty()) fail(hr::invalidArg, "is a merged CIM, not a layer");
            out.push_back({l, desc.identity});
        } catch (const Error& e) {
            throw withContext(e, fmt::format("layers[{}] {}:{}", i, l.blockPath, l.cimName));
        }
    }
    return out;
}

// The merged CIM for these layers: created once, reused by every container with the same layers.
std::pair<std::string, bool> ensureMerged(const LayerDescription& d, const std::vector<OpenedLayer>& layers,
                                          std::optional<block::Hash>& mergedRoot, std::unique_ptr<FileLock>& lock) {
    Sha256 id;
    for (const auto& l : layers) {
        id.update(l.identity.data(), 32);
        if (l.ref.rootHash) id.update(l.ref.rootHash->data(), 32);
    }
    auto digest = id.finish();
    std::string name = "merged-" + hex(digest.data(), 16) + ".bcim";
    fuse::makeDirectories(d.mergedCacheDir);
    std::string path = io::joinPath(d.mergedCacheDir, name);
    bool verified = d.verified();
    // The first caller builds, the others wait and reuse. The caller keeps the lock until its state
    // record names the merged CIM, so garbage collection cannot remove it in between.
    lock = std::make_unique<FileLock>(path + ".lock");
    bool created = false;
    if (!io::exists(path)) {
        uint32_t flags = CIM_CREATE_IMAGE_SINGLE_FILE_CIM | CIM_CREATE_IMAGE_CONSISTENT_CIM |
                         (verified ? CIM_CREATE_IMAGE_VERIFIED_CIM : 0u);
        // Built under a temporary name, sealed, then renamed: readers never see a half-made CIM.
        std::string temp = io::tempNameFor(path);
        try {
            auto w = block::createBlockImage(temp, nullptr, "merged.cim", flags);
            std::vector<capi::MergeSourceSpec> specs;
            for (const auto& l : layers) {
                specs.push_back({l.ref.blockPath + "/" + l.ref.cimName,
                                 CIM_MERGE_SINGLE_FILE | (verified ? CIM_MERGE_VERIFIED_CIM : 0u)});
            }
            merge::prepareMerge(*w, specs, flags);
            w->commit();
            w.reset();
            if (verified) block::sealContainer(temp);
            io::renameFile(temp, path);
            io::syncDirectory(d.mergedCacheDir);
        } catch (...) {
            ::unlink(temp.c_str());
            throw;
        }
        created = true;
        logInfo("rootfs: created merged CIM {}:merged.cim from {} layers", path, layers.size());
    } else {
        logInfo("rootfs: reusing merged CIM {}:merged.cim", path);
    }
    if (verified) {
        auto info = block::verificationInfo(path);
        if (!info.sealed) fail(hr::corrupt, "{}: cached merged CIM is not sealed", path);
        mergedRoot = info.rootHash;
    }
    return {path, created};
}

void writeRecord(const std::string& containerId, const MountResult& r, const LayerDescription& d) {
    fuse::makeDirectories(stateDir());
    nlohmann::json j;
    j["containerId"] = containerId;
    j["volume"] = r.volume.toString();
    j["mountPath"] = r.mountPath;
    j["mergedCim"] = r.mergedCim;
    j["mergedCacheDir"] = d.mergedCacheDir;
    j["pid"] = ::getpid();
    std::string path = recordPath(containerId);
    std::string temp = io::tempNameFor(path);
    {
        std::ofstream out(temp);
        out << j.dump(2) << "\n";
        if (!out) fail(hr::writeFault, "{}: cannot write the state record", temp);
    }
    io::renameFile(temp, path);
}

}  // namespace

format::Guid volumeIdForContainer(const std::string& containerId) {
    // RFC 4122 version 5: SHA-1(namespace bytes in network order || name), then version/variant.
    auto ns = format::Guid::parse(kContainerNamespace);
    uint8_t nsBig[16];
    const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; ++i) nsBig[i] = ns->bytes[order[i]];
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha1(), nullptr);
    EVP_DigestUpdate(c, nsBig, 16);
    EVP_DigestUpdate(c, containerId.data(), containerId.size());
    EVP_DigestFinal_ex(c, digest, &len);
    EVP_MD_CTX_free(c);
    digest[6] = static_cast<uint8_t>((digest[6] & 0x0F) | 0x50);
    digest[8] = static_cast<uint8_t>((digest[8] & 0x3F) | 0x80);
    format::Guid g;
    for (int i = 0; i < 16; ++i) g.bytes[order[i]] = digest[i];  // back to Windows GUID byte order
    return g;
}

std::string stateDir() {
    const char* e = std::getenv("OPENCIM_STATE_DIR");
    return (e && *e) ? e : "/run/opencim/rootfs";
}

MountResult mountRootfs(const std::string& containerId, const LayerDescription& d) {
    validateContainerId(containerId);
    MountResult r;
    r.volume = volumeIdForContainer(containerId);
    logInfo("rootfs {}: {} layer(s), topmost {}:{}, volume {}", containerId, d.layers.size(), d.layers.front().blockPath,
            d.layers.front().cimName, r.volume.toString());
    auto layers = checkLayers(d);
    std::shared_ptr<const image::Image> img;
    std::unique_ptr<FileLock> mergeLock;
    if (layers.size() == 1) {
        const auto& l = d.layers.front();
        img = block::openBlock(l.blockPath, l.cimName, l.rootHash ? &*l.rootHash : nullptr);
    } else {
        std::optional<block::Hash> mergedRoot;
        auto [path, created] = ensureMerged(d, layers, mergedRoot, mergeLock);
        r.mergedCim = path + ":merged.cim";
        r.mergedCreated = created;
        std::vector<std::pair<std::string, std::string>> paths{{path, "merged.cim"}};
        for (const auto& l : d.layers) paths.emplace_back(l.blockPath, l.cimName);
        img = block::openMerged(paths, mergedRoot ? &*mergedRoot : nullptr);
    }
    // A dead mount left by a killed process under this container's volume is cleaned first.
    r.mountPath = fuse::VolumeRegistry::instance().mount(r.volume, img);
    writeRecord(containerId, r, d);
    logInfo("rootfs {}: mounted {} at {}", containerId, r.mergedCim.empty() ? d.layers.front().blockPath : r.mergedCim,
            r.mountPath);
    return r;
}

bool cleanupRootfs(const std::string& containerId) {
    validateContainerId(containerId);
    format::Guid vol = volumeIdForContainer(containerId);
    bool cleaned = false;
    try {
        fuse::VolumeRegistry::instance().dismount(vol);  // ours, another live process's, or a dead one
        cleaned = true;
        logInfo("rootfs {}: unmounted volume {}", containerId, vol.toString());
    } catch (const Error& e) {
        if (e.code() != hr::fileNotFound) throw;
    }
    std::string dir = fuse::volumePath(vol);
    if (::rmdir(dir.c_str()) == 0) cleaned = true;
    if (::unlink(recordPath(containerId).c_str()) == 0) cleaned = true;
    if (cleaned) logInfo("rootfs {}: cleaned up", containerId);
    return cleaned;
}

namespace {
// Merged CIM file names referenced by the state records of mounted containers.
std::set<std::string> mergedInUse() {
    std::set<std::string> inUse;
    DIR* dir = ::opendir(stateDir().c_str());
    if (!dir) return inUse;
    while (dirent* e = ::readdir(dir)) {
        std::string n = e->d_name;
        if (n.size() < 6 || n.substr(n.size() - 5) != ".json") continue;
        try {
            std::ifstream in(io::joinPath(stateDir(), n));
            auto j = nlohmann::json::parse(in);
            std::string m = j.value("mergedCim", "");
            if (!m.empty()) inUse.insert(io::baseName(m.substr(0, m.rfind(':'))));
        } catch (const std::exception&) {
            // An unreadable record keeps nothing alive; cleanup removes it.
        }
    }
    ::closedir(dir);
    return inUse;
}
}  // namespace

size_t garbageCollect(const std::string& cacheDir) {
    DIR* dir = ::opendir(cacheDir.c_str());
    if (!dir) return 0;
    std::vector<std::string> candidates;
    while (dirent* e = ::readdir(dir)) {
        std::string n = e->d_name;
        if (n.rfind("merged-", 0) == 0 && n.size() > 5 && n.substr(n.size() - 5) == ".bcim") candidates.push_back(n);
    }
    ::closedir(dir);
    size_t removed = 0;
    for (const auto& n : candidates) {
        std::string path = io::joinPath(cacheDir, n);
        // Under the lock a mount either has finished writing its record (seen below) or has not
        // started using this CIM yet (it will rebuild it).
        FileLock lock(path + ".lock");
        if (mergedInUse().count(n)) continue;
        if (::unlink(path.c_str()) == 0) {
            ++removed;
            logInfo("rootfs gc: removed {}", path);
        }
        // The lock file stays: unlinking it could let two callers hold "the" lock at once.
    }
    return removed;
}

}  // namespace cim::rootfs
