package statbench

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	cimfs "github.com/opencim/opencim/bindings/go"
)

// image returns the block CIM and path to stat: $OPENCIM_BENCH_IMAGE="BLOCK CIMNAME PATH"
// (set by run.sh --image), else a small image created with the binding.
func image(b *testing.B) (*cimfs.BlockCIM, string) {
	b.Helper()
	if block, name, path := os.Getenv("OPENCIM_BENCH_BLOCK"), os.Getenv("OPENCIM_BENCH_CIM"), os.Getenv("OPENCIM_BENCH_PATH"); block != "" {
		return &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: block, CimName: name}, path
	}
	bc := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(b.TempDir(), "bench.bcim"), CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIMWithOptions(context.Background(), bc)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.AddFile("dir", &cimfs.FileBasicInfo{FileAttributes: cimfs.FileAttributeDirectory}, 0, nil, nil, nil); err != nil {
		b.Fatal(err)
	}
	if err := w.AddFile("dir/file", &cimfs.FileBasicInfo{}, 9, nil, nil, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write([]byte("benchmark")); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return bc, "dir/file"
}

var sink int64

// BenchmarkStat: Reader.Stat, the call an application makes.
func BenchmarkStat(b *testing.B) {
	bc, path := image(b)
	r, err := cimfs.OpenBlockImage(bc)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fi, err := r.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		sink += fi.Size
	}
}

// BenchmarkStatRaw: one bare cgo call per stat, path converted once.
func BenchmarkStatRaw(b *testing.B) {
	bc, path := image(b)
	r, err := OpenRaw(bc.BlockPath, bc.CimName, path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := r.Stat()
		if err != nil {
			b.Fatal(err)
		}
		sink += n
	}
}
