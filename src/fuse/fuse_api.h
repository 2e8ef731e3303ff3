// The one place that selects the libfuse API version: every file of src/fuse includes libfuse
// through this header so that all of them see the same declarations (3.12: fuse_loop_cfg_*).
#pragma once
#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>
