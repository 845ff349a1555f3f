package data

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// tarMember is one accepted archive member.
type tarMember struct {
	Name string // cleaned name, "/"-separated, no leading "./"
	Size int64
	R    io.Reader
}

// walkTarGz streams a .tar.gz and calls fn for every regular-file member in
// allowed (a set of cleaned names; directories named in allowDirs are
// accepted and skipped). Absolute names, "..", links, devices and members
// not in the allowed sets are errors naming the member. After the last
// member the gzip stream is read to its end so its checksum is verified.
// A member whose header declares more than maxSize bytes (what the dataset
// can hold) is refused before anything is read or allocated for it.
func walkTarGz(r io.Reader, allowed map[string]bool, allowDirs map[string]bool, maxSize int64, fn func(m tarMember) error) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("corrupt gzip: %v", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return archiveErr("reading tar", err)
		}
		name, err := safeMemberName(h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if !allowDirs[strings.TrimSuffix(name, "/")] {
				return fmt.Errorf("unexpected archive member %q", h.Name)
			}
			continue
		case tar.TypeReg, 0: // 0: old archives' regular file (tar.TypeRegA)
		case tar.TypeSymlink, tar.TypeLink:
			return fmt.Errorf("archive member %q is a link (to %q): refused", h.Name, h.Linkname)
		default:
			return fmt.Errorf("archive member %q has unsupported type %q", h.Name, string(h.Typeflag))
		}
		if !allowed[name] {
			return fmt.Errorf("unexpected archive member %q", h.Name)
		}
		if h.Size < 0 || h.Size > maxSize {
			return fmt.Errorf("archive member %q declares %d bytes, more than the %d this dataset can hold", h.Name, h.Size, maxSize)
		}
		if err := fn(tarMember{Name: name, Size: h.Size, R: tr}); err != nil {
			return err
		}
	}
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return archiveErr("reading gzip trailer", err)
	}
	return nil
}

func archiveErr(what string, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: truncated archive (unexpected end of data)", what)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return fmt.Errorf("%s: corrupt gzip: %v", what, err)
	}
	return fmt.Errorf("%s: %v", what, err)
}

// safeMemberName cleans a member name and refuses absolute paths and "..".
func safeMemberName(n string) (string, error) {
	if n == "" || strings.HasPrefix(n, "/") || strings.Contains(n, "\\") || strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("unsafe archive member %q", n)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("unsafe archive member %q (path traversal)", n)
		}
	}
	c := path.Clean(n)
	c = strings.TrimPrefix(c, "./")
	if c == "." || c == "" {
		return "", fmt.Errorf("unsafe archive member %q", n)
	}
	if strings.HasSuffix(n, "/") {
		c += "/"
	}
	return c, nil
}

// readExactly reads a member fully and checks it has the size its header
// says (a short read is a truncated archive).
func readExactly(m tarMember) ([]byte, error) {
	b := make([]byte, m.Size)
	if _, err := io.ReadFull(m.R, b); err != nil {
		return nil, archiveErr("reading "+m.Name, err)
	}
	return b, nil
}
