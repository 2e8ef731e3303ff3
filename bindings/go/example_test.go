package cimfs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	cimfs "github.com/opencim/opencim/bindings/go"
)

// The README's example, kept compiling and passing.
func Example() {
	dir, _ := os.MkdirTemp("", "cimfs-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	layer := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(dir, "layer.bcim"), CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIMWithOptions(ctx, layer, cimfs.WithConsistentCIM())
	if err != nil {
		panic(err)
	}
	defer w.Discard() // no-op once Close succeeded
	data := []byte("hello")
	if err := w.AddFile("hello.txt", &cimfs.FileBasicInfo{FileAttributes: cimfs.FileAttributeArchive}, int64(len(data)), nil, nil, nil); err != nil {
		panic(err)
	}
	if _, err := w.Write(data); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil { // commit + release (+ seal WithDataIntegrity)
		panic(err)
	}
	r, err := cimfs.OpenBlockImage(layer)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	b, err := r.ReadFile("hello.txt")
	fmt.Printf("%s %v\n", b, err)
	_, err = r.Stat("missing.txt")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	// Output:
	// hello <nil>
	// true
}
