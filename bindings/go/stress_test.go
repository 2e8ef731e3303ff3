package cimfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"testing/fstest"

	cimfs "github.com/opencim/opencim/bindings/go"
)

// stressContent: a few directories of files with distinct contents.
func stressContent() []entry {
	var entries []entry
	for d := 0; d < 4; d++ {
		entries = append(entries, entry{path: fmt.Sprintf("d%d", d), dir: true})
		for f := 0; f < 16; f++ {
			data := bytes.Repeat([]byte(fmt.Sprintf("d%d/f%d;", d, f)), 50*(f+1))
			entries = append(entries, entry{path: fmt.Sprintf("d%d/f%02d.bin", d, f), data: string(data)})
		}
	}
	return entries
}

// TestConcurrentReaders: 8 goroutines read one image (one Reader, one shared File) at once.
func TestConcurrentReaders(t *testing.T) {
	content := stressContent()
	b := newBlockCIM(t, t.TempDir(), "stress", content)
	r, err := cimfs.OpenBlockImage(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	shared, err := r.Open("d3/f15.bin")
	if err != nil {
		t.Fatal(err)
	}
	sharedData := []byte(content[len(content)-1].data)

	const goroutines, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for round := 0; round < rounds; round++ {
				for i, e := range content {
					if (i+g)%3 != round%3 { // each goroutine covers a rotating third of the files per round
						continue
					}
					if e.dir {
						list, err := r.ReadDir(e.path)
						if err != nil || len(list) != 16 {
							errs <- fmt.Errorf("ReadDir(%s) = %d entries, %v", e.path, len(list), err)
							return
						}
						continue
					}
					got, err := r.ReadFile(e.path)
					if err != nil || !bytes.Equal(got, []byte(e.data)) {
						errs <- fmt.Errorf("goroutine %d: ReadFile(%s): %d bytes, %v", g, e.path, len(got), err)
						return
					}
				}
				off := int64((g*977 + round*131) % len(sharedData))
				buf := make([]byte, 100)
				n, _ := shared.ReadAt(buf, off)
				if !bytes.Equal(buf[:n], sharedData[off:off+int64(n)]) {
					errs <- fmt.Errorf("goroutine %d: shared ReadAt at %d mismatched", g, off)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCloseWhileReading closes a Reader while 8 goroutines use it: every call either succeeds
// or fails with fs.ErrClosed; nothing crashes.
func TestCloseWhileReading(t *testing.T) {
	b := newBlockCIM(t, t.TempDir(), "closing", testContent)
	for iter := 0; iter < 20; iter++ {
		r, err := cimfs.OpenBlockImage(b)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		bad := make(chan error, 8)
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < 200; i++ {
					_, err := r.ReadFile("foo/bar.txt")
					if err != nil && !errors.Is(err, fs.ErrClosed) {
						bad <- err
						return
					}
				}
			}()
		}
		close(start)
		runtime.Gosched()
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(bad)
		for err := range bad {
			t.Fatalf("read racing Close: %v", err)
		}
	}
}

// TestFinalizersAreOnlyASafetyNet drops readers and writers without closing them: collection
// releases their handles, and a dropped writer's image is never published.
func TestFinalizersAreOnlyASafetyNet(t *testing.T) {
	dir := t.TempDir()
	b := newBlockCIM(t, dir, "fin", testContent)
	for i := 0; i < 50; i++ {
		r, err := cimfs.OpenBlockImage(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Stat("foobar.txt"); err != nil {
			t.Fatal(err)
		}
	}
	func() {
		w, err := cimfs.Create(dir, "", "dropped.cim")
		if err != nil {
			t.Fatal(err)
		}
		writeEntries(t, w, testContent)
	}()
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
	if _, err := cimfs.OpenImage(filepath.Join(dir, "dropped.cim")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a dropped writer's image is visible: %v", err)
	}
	// The directory is free again: a new image of the same name can be written.
	w, err := cimfs.Create(dir, "", "dropped.cim")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFSConformance(t *testing.T) {
	content := append(append([]entry{}, testContent...), stressContent()...)
	b := newBlockCIM(t, t.TempDir(), "fstest", content)
	r, err := cimfs.OpenBlockImage(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var files []string
	for _, e := range content {
		files = append(files, e.path)
	}
	if err := fstest.TestFS(r.FS(), files...); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(r.FS(), "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("fs.Stat(nope): %v", err)
	}
	n := 0
	if err := fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error { n++; return err }); err != nil || n != len(content)+1 {
		t.Fatalf("WalkDir visited %d entries, %v", n, err)
	}
}
