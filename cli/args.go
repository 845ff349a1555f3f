package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed moves the flags that follow a command's arguments in front
// of them, so that the documented forms (`report DIR --format csv`,
// `compare OLD NEW --format json`) work: urfave/cli v2 stops parsing flags
// at the first argument. A flag's value is the next argument unless the flag
// takes none (a bool) or is written --name=value. "--" ends the flags: what
// follows it stays an argument.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags := app.Flags
	cmds := app.Commands
	for {
		// The flags of this level, up to the (sub)command name.
		var lead []string
		lead, rest = leadingFlags(flags, rest)
		out = append(out, lead...)
		if len(rest) == 0 {
			return out
		}
		cmd := findCommand(cmds, rest[0])
		if cmd == nil {
			// Not a command: the arguments of the level above.
			break
		}
		out = append(out, rest[0])
		rest = rest[1:]
		flags, cmds = cmd.Flags, cmd.Subcommands
		if len(cmds) == 0 {
			break
		}
	}
	var fs, pos []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i:]...)
			break
		}
		if !isFlag(a) {
			pos = append(pos, a)
			continue
		}
		fs = append(fs, a)
		if takesValue(flags, a) && i+1 < len(rest) {
			i++
			fs = append(fs, rest[i])
		}
	}
	return append(append(out, fs...), pos...)
}

// leadingFlags splits args into the flags (with their values) before the
// first non-flag, and the rest.
func leadingFlags(flags []cli.Flag, args []string) (lead, rest []string) {
	i := 0
	for i < len(args) && isFlag(args[i]) && args[i] != "--" {
		if takesValue(flags, args[i]) && i+1 < len(args) {
			i++
		}
		i++
	}
	return args[:i], args[i:]
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		for _, n := range c.Names() {
			if n == name {
				return c
			}
		}
	}
	return nil
}

// takesValue reports whether the flag a (as written: -x, --name,
// --name=value) consumes the next argument.
func takesValue(flags []cli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if v, ok := f.(interface{ TakesValue() bool }); ok {
				return v.TakesValue()
			}
			return true
		}
	}
	return false // --help, -h, --version and unknown flags (which cli reports)
}
