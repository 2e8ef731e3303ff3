//go:build opencim_pkgconfig

package cimfs

// Linking through pkg-config (opencim.pc, installed by `cmake --install`, or generated in the
// build directory: PKG_CONFIG_PATH=$OPENCIM_BUILD_DIR). Selected with -tags opencim_pkgconfig.

// #cgo pkg-config: opencim
import "C"
