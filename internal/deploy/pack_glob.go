package deploy

import (
	"fmt"
	"regexp"
	"strings"
)

// compileGlob compiles a package pattern (the Framework's globs, dotfiles
// included) into a matcher of slash-separated relative paths:
//
//   - any run of characters except "/"
//     **      any run of characters including "/"; "**/" also matches nothing
//     ?       one character except "/"
//     [a-z]   a character class ([!a-z] negates)
//     {a,b}   alternatives (may nest)
//     \x      the character x
func compileGlob(p string) (func(string) bool, error) {
	expr, err := globToRegexp(p)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile("^" + expr + "$")
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return re.MatchString, nil
}

func globToRegexp(p string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			if i+1 >= len(p) {
				return "", fmt.Errorf("trailing backslash")
			}
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				i++
				for i+1 < len(p) && p[i+1] == '*' {
					i++
				}
				if i+1 < len(p) && p[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(p[i+1:], ']')
			if end < 0 {
				return "", fmt.Errorf("unterminated [")
			}
			class := p[i+1 : i+1+end]
			if class == "" {
				return "", fmt.Errorf("empty []")
			}
			if class[0] == '!' {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		case '{':
			end, alts, err := splitBraces(p, i)
			if err != nil {
				return "", err
			}
			b.WriteString("(?:")
			for j, a := range alts {
				if j > 0 {
					b.WriteString("|")
				}
				r, err := globToRegexp(a)
				if err != nil {
					return "", err
				}
				b.WriteString(r)
			}
			b.WriteString(")")
			i = end
		case '/':
			if p[i:] == "/**" {
				// "dir/**" also matches dir itself.
				b.WriteString("(?:/.*)?")
				return b.String(), nil
			}
			b.WriteString("/")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String(), nil
}

// splitBraces returns the index of the "}" closing the "{" at start and the
// top-level alternatives inside.
func splitBraces(p string, start int) (int, []string, error) {
	depth, from := 0, start+1
	var alts []string
	for j := start; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j, append(alts, p[from:j]), nil
			}
		case ',':
			if depth == 1 {
				alts = append(alts, p[from:j])
				from = j + 1
			}
		}
	}
	return 0, nil, fmt.Errorf("unterminated {")
}
