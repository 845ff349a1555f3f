package data

// DatasetRef identifies one prepared dataset and where it came from; it is
// the meta.json of a prepared dataset, and every spec and result carries
// the ones its inputs come from.
type DatasetRef struct {
	Name     string `json:"name"`
	SHA256   string `json:"sha256"`   // of the source file (archive) as obtained
	Official bool   `json:"official"` // byte-identical to the official source
	Source   string `json:"source"`   // URL, mirror path or package file
	Note     string `json:"note,omitempty"`
	// Files are the prepared files as `data prepare` wrote them; a run
	// refuses inputs that no longer match.
	Files []FileHash `json:"files,omitempty"`
}

// FileHash is one prepared file as `data prepare` wrote it: its path
// relative to the dataset directory, size and sha256.
type FileHash struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// HashFile returns the size and sha256 (hex) of the file at path.
func HashFile(path string) (int64, string, error) {
	n, sum, _, err := fileDigest(path)
	return n, sum, err
}
