// Command layers is the opencim Go sample: it writes two block CIM layers, merges them, reads
// the merged view back through the reader API, then seals a verified layer and opens it with
// its root hash. Usage: layers WORKDIR
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	cimfs "github.com/opencim/opencim/bindings/go"
)

// file is one entry of a layer: a directory when data is nil.
type file struct {
	path string
	data []byte
}

// writeLayer writes block CIM "layer.cim" into the block file blockPath.
func writeLayer(blockPath string, files []file, tombstones []string, opts ...cimfs.BlockCIMOpt) (*cimfs.BlockCIM, error) {
	layer := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: blockPath, CimName: "layer.cim"}
	w, err := cimfs.CreateBlockCIMWithOptions(context.Background(), layer, append(opts, cimfs.WithConsistentCIM())...)
	if err != nil {
		return nil, err
	}
	defer w.Discard() // no-op after a successful Close
	now := cimfs.NewFiletime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, f := range files {
		info := &cimfs.FileBasicInfo{CreationTime: now, LastWriteTime: now, ChangeTime: now, LastAccessTime: now,
			FileAttributes: cimfs.FileAttributeArchive}
		if f.data == nil {
			info.FileAttributes = cimfs.FileAttributeDirectory
		}
		if err := w.AddFile(f.path, info, int64(len(f.data)), nil, nil, nil); err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	for _, t := range tombstones {
		if err := w.AddTombstone(t); err != nil {
			return nil, err
		}
	}
	return layer, w.Close() // commit, release, and seal when WithDataIntegrity
}

func run(work string) error {
	// 1. Two layers. The top layer overrides a file, deletes one (tombstone) and adds one.
	base, err := writeLayer(filepath.Join(work, "base.bcim"), []file{
		{"hello.txt", []byte("hello from the base layer")},
		{"etc", nil},
		{"etc/config", []byte("setting=base")},
		{"old.txt", []byte("deleted by the top layer")},
	}, nil)
	if err != nil {
		return err
	}
	top, err := writeLayer(filepath.Join(work, "top.bcim"), []file{
		{"etc", nil},
		{"etc/config", []byte("setting=top")},
		{"new.txt", []byte("added by the top layer")},
	}, []string{"old.txt"})
	if err != nil {
		return err
	}
	fmt.Println("wrote layers base.bcim and top.bcim")

	// 2. Merge, topmost first.
	merged := &cimfs.BlockCIM{Type: cimfs.BlockCIMTypeSingleFile, BlockPath: filepath.Join(work, "merged.bcim"), CimName: "merged.cim"}
	sources := []*cimfs.BlockCIM{top, base}
	if err := cimfs.MergeBlockCIMs(merged, sources); err != nil {
		return err
	}
	fmt.Println("merged 2 layers into merged.bcim")

	// 3. Read the merged view.
	r, err := cimfs.OpenMergedImage(merged, sources)
	if err != nil {
		return err
	}
	defer r.Close()
	entries, err := r.ReadDir("")
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.Info.IsDir() {
			e.Name += "/"
		}
		names = append(names, e.Name)
	}
	fmt.Printf("listing /: %s\n", strings.Join(names, " "))
	for _, p := range []string{"hello.txt", "etc/config", "new.txt"} {
		data, err := r.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Printf("merged %s (%d bytes): %s\n", p, len(data), data)
	}
	_, err = r.Stat("old.txt")
	fmt.Printf("merged old.txt: not exist=%v, %v\n", errors.Is(err, fs.ErrNotExist), err)

	// 4. A verified layer: Close seals it; open it with its root hash.
	verified, err := writeLayer(filepath.Join(work, "verified.bcim"),
		[]file{{"app.bin", []byte("integrity-protected content")}}, nil, cimfs.WithDataIntegrity())
	if err != nil {
		return err
	}
	hash, err := cimfs.GetVerificationInfo(verified.BlockPath)
	if err != nil {
		return err
	}
	fmt.Printf("sealed verified.bcim, root hash %x\n", hash)
	vr, err := cimfs.OpenVerifiedBlockImage(verified, hash)
	if err != nil {
		return err
	}
	defer vr.Close()
	data, err := vr.ReadFile("app.bin")
	if err != nil {
		return err
	}
	fmt.Printf("verified app.bin (%d bytes): %s\n", len(data), data)

	hash[0] ^= 0xff
	_, err = cimfs.OpenVerifiedBlockImage(verified, hash)
	fmt.Printf("wrong root hash: integrity violation=%v, %v\n", errors.Is(err, cimfs.HRIntegrityViolation), err)
	if !errors.Is(err, cimfs.HRIntegrityViolation) {
		return fmt.Errorf("a wrong root hash was not rejected: %v", err)
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: layers WORKDIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		log.Fatal(err)
	}
}
