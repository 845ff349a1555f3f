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
}
