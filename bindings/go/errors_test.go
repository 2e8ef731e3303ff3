package cimfs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cimfs "github.com/opencim/opencim/bindings/go"
)

func TestHRESULTIs(t *testing.T) {
	cases := []struct {
		h      cimfs.HRESULT
		target error
	}{
		{cimfs.HRFileNotFound, fs.ErrNotExist},
		{cimfs.HRPathNotFound, fs.ErrNotExist},
		{cimfs.HRAlreadyExists, fs.ErrExist},
		{cimfs.HRFileExists, fs.ErrExist},
		{cimfs.HRInvalidArg, fs.ErrInvalid},
		{cimfs.HRAccessDenied, fs.ErrPermission},
		{cimfs.HRInvalidHandle, fs.ErrClosed},
	}
	sentinels := []error{fs.ErrNotExist, fs.ErrExist, fs.ErrInvalid, fs.ErrPermission, fs.ErrClosed}
	for _, c := range cases {
		wrapped := fmt.Errorf("outer: %w", &cimfs.PathError{Op: "Op", Err: c.h})
		for _, s := range sentinels {
			if got, want := errors.Is(wrapped, s), s == c.target; got != want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", c.h, s, got, want)
			}
		}
	}
	for _, h := range []cimfs.HRESULT{cimfs.HRCorrupt, cimfs.HRIntegrityViolation, cimfs.HRNotImplemented, cimfs.HRNotSupported} {
		for _, s := range sentinels {
			if errors.Is(h, s) {
				t.Errorf("%v matches %v", h, s)
			}
		}
	}
	iv := cimfs.HRIntegrityViolation
	if cimfs.HRFileNotFound != -2147024894 || uint32(iv) != 0x80070143 {
		t.Fatalf("HRESULT constants are wrong: %d %#x", cimfs.HRFileNotFound, uint32(iv))
	}
	if s := cimfs.HRFileNotFound.Error(); s != "file not found (0x80070002)" {
		t.Fatalf("Error() = %q", s)
	}
	if cimfs.HRESULTOf(nil) != 0 || cimfs.HRESULTOf(errors.New("x")) != cimfs.HRFail {
		t.Fatal("HRESULTOf")
	}
}

// TestErrorMappings provokes every documented error from the library and checks its HRESULT,
// its io/fs sentinel and that the library's message travelled with it.
func TestErrorMappings(t *testing.T) {
	dir := t.TempDir()
	w, err := cimfs.Create(dir, "", "test.cim")
	if err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, testContent)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cimfs.OpenImage(filepath.Join(dir, "test.cim"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	garbage := filepath.Join(dir, "garbage.cim")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a cim ", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	block := newBlockCIM(t, dir, "block", testContent)

	w2, err := cimfs.Create(dir, "", "scratch.cim")
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Discard()
	writeEntries(t, w2, testContent)

	type tc struct {
		name     string
		err      error
		hr       cimfs.HRESULT
		sentinel error // nil: no io/fs sentinel
		message  string
	}
	stat := func(p string) error { _, err := r.Stat(p); return err }
	cases := []tc{
		{"missing image", func() error { _, err := cimfs.OpenImage(filepath.Join(dir, "missing.cim")); return err }(),
			cimfs.HRFileNotFound, fs.ErrNotExist, "CimOpenImage"},
		{"missing CIM in block file", func() error {
			_, err := cimfs.OpenBlockImage(&cimfs.BlockCIM{Type: block.Type, BlockPath: block.BlockPath, CimName: "nope.cim"})
			return err
		}(), cimfs.HRFileNotFound, fs.ErrNotExist, "nope.cim"},
		{"missing leaf", stat("missing.txt"), cimfs.HRFileNotFound, fs.ErrNotExist, "missing.txt"},
		{"missing parent", stat("nodir/x.txt"), cimfs.HRPathNotFound, fs.ErrNotExist, "nodir"},
		{"AddFile without parent", w2.AddFile("nodir/x.txt", basicInfo(false), 0, nil, nil, nil),
			cimfs.HRPathNotFound, fs.ErrNotExist, "nodir"},
		{"Unlink missing", w2.Unlink("missing.txt"), cimfs.HRPathNotFound, fs.ErrNotExist, "missing.txt"},
		{"link to missing", w2.AddLink("missing.txt", "l.txt"), cimfs.HRPathNotFound, fs.ErrNotExist, ""},
		{"image exists", func() error { _, err := cimfs.Create(dir, "", "test.cim"); return err }(),
			cimfs.HRFileExists, fs.ErrExist, "test.cim"},
		{"CIM name exists in block file", func() error {
			_, err := cimfs.CreateBlockCIMWithOptions(context.Background(), block)
			return err
		}(), cimfs.HRFileExists, fs.ErrExist, ""},
		{"dot-dot path", stat("foo/../foobar.txt"), cimfs.HRInvalidArg, fs.ErrInvalid, ".."},
		{"bad AddFile path", w2.AddFile("a/./b", basicInfo(false), 0, nil, nil, nil), cimfs.HRInvalidArg, fs.ErrInvalid, ""},
		{"bad reparse buffer", w2.AddFile("r.txt", basicInfo(false), 0, nil, nil, []byte{1, 2, 3}), cimfs.HRInvalidArg, fs.ErrInvalid, "reparse"},
		{"invalid block type (checked in Go)", func() error {
			_, err := cimfs.OpenBlockImage(&cimfs.BlockCIM{Type: 7, BlockPath: block.BlockPath, CimName: block.CimName})
			return err
		}(), cimfs.HRInvalidArg, fs.ErrInvalid, ""},
		{"embedded NUL", stat("foo\x00bar"), cimfs.HRInvalidArg, fs.ErrInvalid, "NUL"},
		{"hard link to a directory", w2.AddLink("foo", "dirlink"), cimfs.HRAccessDenied, fs.ErrPermission, ""},
		{"not a directory", stat("foobar.txt/x"), cimfs.HRDirectory, nil, "foobar.txt"},
		{"ReadDir of a file", func() error { _, err := r.ReadDir("foobar.txt"); return err }(), cimfs.HRDirectory, nil, ""},
		{"corrupt image", func() error { _, err := cimfs.OpenImage(garbage); return err }(), cimfs.HRCorrupt, nil, "garbage.cim"},
		{"corrupt block file", func() error {
			_, err := cimfs.OpenBlockImage(&cimfs.BlockCIM{Type: block.Type, BlockPath: garbage, CimName: "layer.cim"})
			return err
		}(), cimfs.HRCorrupt, nil, ""},
		{"seal of an unverified block CIM", func() error { _, err := cimfs.SealBlockCIM(block.BlockPath); return err }(),
			cimfs.HRInvalidArg, fs.ErrInvalid, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantHR(t, c.err, c.hr)
			if c.sentinel != nil && !errors.Is(c.err, c.sentinel) {
				t.Fatalf("%v does not match %v", c.err, c.sentinel)
			}
			var pe *cimfs.PathError
			errors.As(c.err, &pe)
			if pe.Message == "" && !strings.Contains(c.name, "checked in Go") {
				t.Fatalf("no library message in %q", c.err)
			}
			if !strings.Contains(c.err.Error(), c.message) {
				t.Fatalf("message %q does not mention %q", c.err, c.message)
			}
		})
	}
}

func TestMessageIsReadOnTheFailingThread(t *testing.T) {
	// Many goroutines fail with different paths at once; each must get its own message.
	dir := t.TempDir()
	b := newBlockCIM(t, dir, "msgs", testContent)
	r, err := cimfs.OpenBlockImage(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		go func(g int) {
			for i := 0; i < 300; i++ {
				p := fmt.Sprintf("missing-%d-%d.txt", g, i)
				_, err := r.Stat(p)
				var pe *cimfs.PathError
				if !errors.As(err, &pe) || !strings.Contains(pe.Message, p) {
					errs <- fmt.Errorf("Stat(%s): message %q", p, err)
					return
				}
				// A success in between clears the thread's message; it must not leak into the next error.
				if _, err := r.Stat("foobar.txt"); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(g)
	}
	for g := 0; g < 16; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestHandleMisuse(t *testing.T) {
	dir := t.TempDir()
	b := newBlockCIM(t, dir, "misuse", testContent)

	// Reader: double close, use after close, files of a closed reader.
	r, err := cimfs.OpenBlockImage(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := r.Open("foobar.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	closedErrs := []error{
		r.Close(),
		func() error { _, err := r.Stat("foobar.txt"); return err }(),
		func() error { _, err := r.ReadDir(""); return err }(),
		func() error { _, err := r.Open("foobar.txt"); return err }(),
		func() error { _, err := r.ReadFile("foobar.txt"); return err }(),
		func() error { _, err := r.Streams("foobar.txt"); return err }(),
		func() error { _, err := r.SecurityDescriptor("foobar.txt"); return err }(),
		func() error { _, err := f.ReadAt(make([]byte, 4), 0); return err }(),
		func() error { _, err := f.Read(make([]byte, 4)); return err }(),
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	closedErrs = append(closedErrs, f.Close(),
		func() error { _, err := f.Seek(0, 0); return err }(),
		func() error { _, err := f.Stat(); return err }())
	for i, err := range closedErrs {
		if !errors.Is(err, fs.ErrClosed) || !errors.Is(err, cimfs.HRInvalidHandle) {
			t.Errorf("reader misuse %d: %v, want fs.ErrClosed", i, err)
		}
	}

	// Writer: double close, use after close, discard.
	w, err := cimfs.CreateBlockCIM(filepath.Join(dir, "w.bcim"), "layer.cim", cimfs.BlockCIMTypeSingleFile)
	if err != nil {
		t.Fatal(err)
	}
	writeEntries(t, w, testContent)
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("second Commit: %v", err)
	}
	if err := w.AddFile("late.txt", basicInfo(false), 0, nil, nil, nil); err == nil {
		t.Fatal("AddFile after Commit succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	writerErrs := []error{
		w.Close(), w.Discard(), w.Commit(),
		w.AddFile("x", basicInfo(false), 0, nil, nil, nil),
		func() error { _, err := w.Write([]byte("x")); return err }(),
		w.AddLink("foobar.txt", "x"), w.AddMergedLink("a", "b"), w.Unlink("foobar.txt"), w.AddTombstone("foobar.txt"),
		w.CreateAlternateStream("foobar.txt:s", 1),
	}
	for i, err := range writerErrs {
		if !errors.Is(err, fs.ErrClosed) {
			t.Errorf("writer misuse %d: %v, want fs.ErrClosed", i, err)
		}
	}

	// Discard publishes nothing, also with a stream left open.
	d, err := cimfs.Create(dir, "", "discarded.cim")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddFile("half.txt", basicInfo(false), 10, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Close after Discard: %v", err)
	}
	if _, err := cimfs.OpenImage(filepath.Join(dir, "discarded.cim")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("discarded image is visible: %v", err)
	}

	// A failed commit still releases the handle: Close reports the commit error once, then ErrClosed.
	s, err := cimfs.Create(dir, "", "short.cim")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile("short.txt", basicInfo(false), 10, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, cimfs.HRHandleEOF) {
		t.Fatalf("Close with an incomplete stream: %v", err)
	}
	if err := s.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Close after a failed Close: %v", err)
	}
	if _, err := cimfs.OpenImage(filepath.Join(dir, "short.cim")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("image with an incomplete stream is visible: %v", err)
	}

	// Write without an active stream.
	n, err := cimfs.Create(dir, "", "nostream.cim")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Discard()
	if _, err := n.Write([]byte("x")); err == nil {
		t.Fatal("Write without AddFile succeeded")
	}
}
