// Runs every read API of an opened image once over (a bounded part of) its tree: what the C ABI
// reader and the FUSE mount would do with it. Shared by the image, block and tar targets.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "common/error.h"
#include "fuse/posix_view.h"
#include "fuse/xattr_view.h"
#include "image/image.h"

namespace fuzzutil {

inline void exercise(const cim::image::Image& img, size_t maxFiles = 2000) {
    size_t visited = 0;
    try {
        img.walk([&](const std::vector<std::u16string>&, const cim::image::FileNode& f) {
            if (++visited > maxFiles) throw cim::Error(cim::hr::fail, "enough");
            img.securityDescriptor(f);
            img.extendedAttributes(f);
            img.reparseData(f);
            uint32_t links = img.linkCount(f.id);
            std::byte buf[512];
            if (!f.isDirectory()) {
                img.readStream(f.rec.defaultStream, 0, buf);
                img.readStream(f.rec.defaultStream, f.size() > 100 ? f.size() - 100 : 0, buf);
                if (f.isMergeLink()) img.mergeLinkTarget(f);
            } else {
                for (const auto& c : img.children(f, true)) {
                    (void)img.findChild(f, c.name, true);
                    break;
                }
            }
            for (const auto& s : img.alternateStreams(f)) img.readStream(s.stream, 1, buf);
            // The FUSE view of the same file (its own errors are caught so the walk goes on).
            try {
                (void)cim::fuse::describe(img, f, links);
                for (const auto& n : cim::fuse::xattrNames(img, f)) (void)cim::fuse::xattrValue(img, f, n);
            } catch (const cim::Error&) {
            }
        });
    } catch (const cim::Error&) {
    }
    for (const char* p : {"a\\b:c", "d/f0", "link", "d/f0:ads", "Files\\x", "x:y:$DATA"}) {
        try {
            auto r = img.resolve(std::string_view(p));
            (void)r;
        } catch (const cim::Error&) {
        }
    }
}

}  // namespace fuzzutil
