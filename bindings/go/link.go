//go:build !opencim_pkgconfig

package cimfs

// Default linking: -lopencim, found in the linker's default paths (an installed library) or in
// the directory named by CGO_LDFLAGS (an in-tree build; bindings/go/test.sh sets
// CGO_LDFLAGS="-L$OPENCIM_BUILD_DIR -Wl,-rpath,$OPENCIM_BUILD_DIR"). The header comes from the
// repository's include/ (see native.go) or the system include path.
// Build with -tags opencim_pkgconfig to use opencim.pc instead (link_pkgconfig.go).

// #cgo LDFLAGS: -lopencim
import "C"
