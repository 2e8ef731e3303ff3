// Metadata-only merge of block CIMs (CimAddFsToMergedImage2 + CimCommitImage): the merged CIM's
// tree is built from its sources, topmost first, and its file records point into the sources'
// regions, which the merged CIM lists as external regions. See docs/format.md ("Merged CIMs").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "capi/image_session.h"
#include "image/writer.h"

namespace cim::merge {

// Validates one CimAddFsToMergedImage2 call (flags, block types, the source's existence).
void checkMergeSource(const image::Writer& w, uint32_t createFlags, const std::vector<capi::MergeSourceSpec>& added,
                      const std::string& fsPath, uint32_t flags);

// Opens the sources and installs the merge into the writer; the merge runs at commit.
void prepareMerge(image::Writer& w, const std::vector<capi::MergeSourceSpec>& sources, uint32_t createFlags);

}  // namespace cim::merge
