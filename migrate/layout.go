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
	originals, thumbnails *regexp.Regexp
	originalsTemplate     string
}

// ParseLayout compiles the two templates. A placeholder matches one or more
// characters other than "/"; everything else matches literally.
func ParseLayout(originals, thumbnails string) (*Layout, error) {
	o, err := compileTemplate(originals, "group", "photo")
	if err != nil {
		return nil, fmt.Errorf("--originals: %w", err)
	}
	t, err := compileTemplate(thumbnails, "group", "photo", "size")
	if err != nil {
		return nil, fmt.Errorf("--thumbnails: %w", err)
	}
	return &Layout{originals: o, thumbnails: t, originalsTemplate: originals}, nil
}

var placeholder = regexp.MustCompile(`\{([a-z]+)\}`)

func compileTemplate(tmpl string, need ...string) (*regexp.Regexp, error) {
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
		fmt.Fprintf(&b, "(?P<%s>[^/]+?)", name)
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

// Match says what key is: an original (size ""), a thumbnail, or neither (ok false).
func (l *Layout) Match(key string) (group, photo, size string, ok bool) {
	if m := l.thumbnails.FindStringSubmatch(key); m != nil {
		return m[l.thumbnails.SubexpIndex("group")], m[l.thumbnails.SubexpIndex("photo")], m[l.thumbnails.SubexpIndex("size")], true
	}
	if m := l.originals.FindStringSubmatch(key); m != nil {
		return m[l.originals.SubexpIndex("group")], m[l.originals.SubexpIndex("photo")], "", true
	}
	return "", "", "", false
}
