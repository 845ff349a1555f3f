// Command opgen generates package torch's per-op boilerplate from its op
// table, torch/ops.def (the format is described at the top of that file):
// the C declaration and C++ body of each shim function, its cgo call and
// stub, the package function and the Scope method. Run it with
// `go generate ./torch/`; TestGeneratedFilesUpToDate fails when a checked-in
// file differs from what the table gives.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "opgen:", err)
		os.Exit(1)
	}
}

// run regenerates the files of the package in dir, writing only those that
// change.
func run(dir string) error {
	files, err := generateFrom(dir)
	if err != nil {
		return err
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, b) {
			continue
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generateFrom reads dir/ops.def and returns the generated files by name.
func generateFrom(dir string) (map[string][]byte, error) {
	src, err := os.ReadFile(filepath.Join(dir, "ops.def"))
	if err != nil {
		return nil, err
	}
	ops, err := parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("ops.def: %w", err)
	}
	return generate(ops)
}

// param is one parameter of an op.
type param struct {
	name, typ string // typ without the optional mark
	optional  bool   // *Tensor?: nil is passed as NULL
}

// op is one line of the table with its doc comment.
type op struct {
	doc       []string // comment lines, with their "// "
	cname     string   // the shim function is at_<cname>; also the error's Op
	goname    string
	sig       string // the Go parameter list as written, without "?"
	params    []param
	expr      string // the C++ expression; empty for a Scope-only line
	scopeOnly bool
}

var (
	opLine    = regexp.MustCompile(`^([a-z][a-z0-9_]*) ([A-Z][A-Za-z0-9]*)\((.*)\) = (.+)$`)
	scopeLine = regexp.MustCompile(`^- ([A-Z][A-Za-z0-9]*)\((.*)\)$`)
	ident     = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	kinds     = map[string]bool{"*Tensor": true, "float64": true, "int64": true, "bool": true, "[]int64": true, "...int64": true}
)

func parse(src string) ([]op, error) {
	var ops []op
	var doc []string
	seen := map[string]bool{}
	for i, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		fail := func(format string, a ...any) error {
			return fmt.Errorf("line %d: %s", i+1, fmt.Sprintf(format, a...))
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			doc = nil
			continue
		case strings.HasPrefix(line, "//"):
			doc = append(doc, line)
			continue
		}
		var o op
		if m := scopeLine.FindStringSubmatch(line); m != nil {
			o = op{goname: m[1], sig: m[2], scopeOnly: true}
		} else if m := opLine.FindStringSubmatch(line); m != nil {
			o = op{cname: m[1], goname: m[2], sig: m[3], expr: m[4]}
		} else {
			return nil, fail("want `c_name GoName(params) = expr` or `- GoName(params)`: %q", line)
		}
		if len(doc) == 0 || !strings.HasPrefix(doc[0], "// "+o.goname+" ") {
			return nil, fail("%s needs a doc comment starting with %q", o.goname, "// "+o.goname+" ")
		}
		if seen[o.goname] || (o.cname != "" && seen["at_"+o.cname]) {
			return nil, fail("%s defined twice", o.goname)
		}
		seen[o.goname], seen["at_"+o.cname] = true, true
		o.doc = doc
		doc = nil
		ps, err := parseParams(o.sig)
		if err != nil {
			return nil, fail("%s: %v", o.goname, err)
		}
		o.params = ps
		o.sig = strings.ReplaceAll(o.sig, "?", "")
		if !o.scopeOnly {
			if err := checkKinds(ps); err != nil {
				return nil, fail("%s: %v", o.goname, err)
			}
		}
		ops = append(ops, o)
	}
	if len(ops) == 0 {
		return nil, errors.New("no ops")
	}
	return ops, nil
}

// parseParams splits a Go parameter list ("a, b *Tensor, eps float64").
func parseParams(sig string) ([]param, error) {
	var ps []param
	var pending []string
	for _, item := range strings.Split(sig, ",") {
		f := strings.Fields(item)
		switch {
		case len(f) == 1 && ident.MatchString(f[0]):
			pending = append(pending, f[0])
		case len(f) == 2 && ident.MatchString(f[0]):
			typ, opt := strings.CutSuffix(f[1], "?")
			if opt && typ != "*Tensor" {
				return nil, fmt.Errorf("only *Tensor can be optional, not %s", typ)
			}
			for _, n := range append(pending, f[0]) {
				ps = append(ps, param{name: n, typ: typ, optional: opt})
			}
			pending = nil
		default:
			return nil, fmt.Errorf("bad parameter %q", strings.TrimSpace(item))
		}
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("parameters %v have no type", pending)
	}
	return ps, nil
}

func checkKinds(ps []param) error {
	tensors := 0
	for i, p := range ps {
		if !kinds[p.typ] {
			return fmt.Errorf("parameter %s: type %s is not one of *Tensor, *Tensor?, float64, int64, bool, []int64, ...int64", p.name, p.typ)
		}
		if p.typ == "...int64" && i != len(ps)-1 {
			return fmt.Errorf("...int64 must be the last parameter")
		}
		if p.typ == "*Tensor" {
			tensors++
		}
	}
	if tensors == 0 {
		return errors.New("an op takes at least one tensor")
	}
	return nil
}
