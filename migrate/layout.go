package migrate

import (
	"fmt"
	"regexp"
	"strings"
)

// Layout is where a legacy bucket keeps things, as templates with the
// placeholders {group}, {photo} and (thumbnails only) {size}:
//
//	originals:  legacy/{group}/{photo}.jpg
//	thumbnails: legacy/{group}/{photo}_{size}.jpg
type Layout struct {
	originals *regexp.Regexp
	// thumbnails holds the template compiled greedy and lazy: "a_b_320.jpg"
	// splits as photo "a_b" size "320" or photo "a" size "b_320", and only
	// the existing originals can tell which is meant.
	thumbnails        [2]*regexp.Regexp
	originalsTemplate string
}

// ParseLayout compiles the two templates. A placeholder matches one or more
// characters other than "/"; everything else matches literally.
func ParseLayout(originals, thumbnails string) (*Layout, error) {
	o, err := compileTemplate(originals, "", "group", "photo")
	if err != nil {
		return nil, fmt.Errorf("--originals: %w", err)
	}
	l := &Layout{originals: o, originalsTemplate: originals}
	for i, mode := range []string{"", "?"} {
		if l.thumbnails[i], err = compileTemplate(thumbnails, mode, "group", "photo", "size"); err != nil {
			return nil, fmt.Errorf("--thumbnails: %w", err)
		}
	}
	return l, nil
}

var placeholder = regexp.MustCompile(`\{([a-z]+)\}`)

func compileTemplate(tmpl, lazy string, need ...string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	seen := map[string]bool{}
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(tmpl, -1) {
		name := tmpl[m[2]:m[3]]
		if seen[name] {
			return nil, fmt.Errorf("template %q has {%s} twice", tmpl, name)
		}
		seen[name] = true
		b.WriteString(regexp.QuoteMeta(tmpl[last:m[0]]))
		fmt.Fprintf(&b, "(?P<%s>[^/]+%s)", name, lazy)
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(tmpl[last:]))
	b.WriteString("$")
	for _, n := range need {
		if !seen[n] {
			return nil, fmt.Errorf("template %q lacks {%s}", tmpl, n)
		}
	}
	if len(seen) != len(need) {
		return nil, fmt.Errorf("template %q: only %s are known", tmpl, "{"+strings.Join(need, "}, {")+"}")
	}
	return regexp.Compile(b.String())
}

// Prefix is the literal start of the originals template: what to list.
func (l *Layout) Prefix() string {
	if i := strings.IndexByte(l.originalsTemplate, '{'); i >= 0 {
		return l.originalsTemplate[:i]
	}
	return l.originalsTemplate
}

func (l *Layout) matchOriginal(key string) (group, photo, size string, ok bool) {
	if m := l.originals.FindStringSubmatch(key); m != nil {
		return m[l.originals.SubexpIndex("group")], m[l.originals.SubexpIndex("photo")], "", true
	}
	return "", "", "", false
}

// thumbnailSplits lists the ways key reads as a thumbnail, greedy first.
func (l *Layout) thumbnailSplits(key string) [][3]string {
	var out [][3]string
	for _, re := range l.thumbnails {
		if m := re.FindStringSubmatch(key); m != nil {
			s := [3]string{m[re.SubexpIndex("group")], m[re.SubexpIndex("photo")], m[re.SubexpIndex("size")]}
			if len(out) == 0 || out[0] != s {
				out = append(out, s)
			}
		}
	}
	return out
}

// Match says what key is on its own: a thumbnail (its greedy reading), an
// original (size ""), or neither (ok false). Plan resolves keys that read both
// ways against the originals that exist.
func (l *Layout) Match(key string) (group, photo, size string, ok bool) {
	if s := l.thumbnailSplits(key); len(s) > 0 {
		return s[0][0], s[0][1], s[0][2], true
	}
	return l.matchOriginal(key)
}
