package bench

import "path/filepath"

// modelNotes are the notes the task's model meta.json carries (models.py
// copies the "note" of a test fixture checkpoint there), for every result
// made from that model; nil when there is none.
func modelNotes(cfg Config, t *Task) []string {
	if t.ModelMeta == "" {
		return nil
	}
	var m struct {
		Note string `json:"note"`
	}
	if err := readJSON(filepath.Join(cfg.ModelsDir, t.ModelMeta), &m); err != nil || m.Note == "" {
		return nil
	}
	return []string{"model: " + m.Note}
}
