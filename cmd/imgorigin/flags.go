package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/imgorigin/imgorigin/server"
)

// envName is the environment twin of a flag: --admin-addr -> IMGORIGIN_ADMIN_ADDR.
// One twin serves every subcommand, so a flag name means one thing
// everywhere (TestFlagsMeanOneThingEverywhere).
func envName(flagName string) string {
	return "IMGORIGIN_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// usageOutput receives -h listings (a variable for tests).
var usageOutput io.Writer = os.Stderr

// parseFlags parses args; a flag not given on the command line takes its
// environment twin when that is set. -h lists every flag with its twin; a
// mistake gets one line that says what is wrong, not the whole list.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard) // errors are ours to word
	fs.Usage = func() {}     // and the listing only for -h
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		printUsage(fs)
		return err
	} else if err != nil {
		return flagError(fs, err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(envName(f.Name)); ok && !given[f.Name] && err == nil {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("$%s: %w", envName(f.Name), valueError(f, v, e))
			}
		}
	})
	return err
}

// printUsage lists every flag with its environment twin.
func printUsage(fs *flag.FlagSet) {
	fmt.Fprintf(usageOutput, "Usage of imgorigin %s:\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(usageOutput, "  --%s  [$%s]%s\n    \t%s\n", f.Name, envName(f.Name), def, f.Usage)
	})
}

// flagError rewords the flag package's errors: an unknown flag names the
// nearest known one, a bad value says what is expected.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimPrefix(name, "-")
		hint := ""
		if near := nearestFlag(fs, name); near != "" {
			hint = fmt.Sprintf("; did you mean --%s?", near)
		}
		return fmt.Errorf("unknown flag --%s%s ('imgorigin %s -h' lists them)", name, hint, fs.Name())
	}
	// "invalid value "10" for flag -deadline: parse error"
	var value, name string
	if _, e := fmt.Sscanf(msg, "invalid value %q for flag -%s", &value, &name); e == nil {
		name = strings.TrimSuffix(name, ":")
		if f := fs.Lookup(name); f != nil {
			return fmt.Errorf("--%s: %w", name, valueError(f, value, err))
		}
	}
	return err
}

// valueError says what a flag expects when v did not parse.
func valueError(f *flag.Flag, v string, err error) error {
	if g, ok := f.Value.(flag.Getter); ok {
		switch g.Get().(type) {
		case time.Duration:
			return fmt.Errorf("%q is not a duration: give a number with a unit, such as 10s, 500ms or 2m", v)
		case int, int64, uint, uint64:
			return fmt.Errorf("%q is not a whole number", v)
		case bool:
			return fmt.Errorf("%q is not true or false", v)
		}
	}
	return err
}

// nearestFlag is the defined flag closest to name (edit distance at most a
// third of its length, name as a prefix, or as the last word: --queue is
// --render-queue), or "".
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestDist := "", len(name)/3+1
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if len(name) >= 3 && (strings.HasPrefix(f.Name, name) || strings.HasSuffix(f.Name, "-"+name)) {
			d = min(d, 1)
		}
		if d < bestDist || d == bestDist && best == "" {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is Levenshtein's distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// adminAddrFlag registers --admin-addr, which serve, migrate work and health
// share.
func adminAddrFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "admin-addr", server.DefaultConfig().AdminAddr, "admin listener: /metrics, /healthz, /readyz; never expose it through the CDN")
}
