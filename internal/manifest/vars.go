package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resolution states of a node.
const (
	stUnvisited = iota
	stResolving
	stDone
	stFailed
)

// errReported marks a failure whose problem was already recorded, so callers
// that depended on the failed value do not report it again.
var errReported = errors.New("already reported")

// cycleError is a variable reference cycle; it is reported once, at the
// node whose evaluation closed the loop.
type cycleError struct{ chain []string }

func (e *cycleError) Error() string {
	return "variable cycle: " + strings.Join(e.chain, " → ")
}

// varError is a resolution failure with a code.
type varError struct {
	code string
	msg  string
}

func (e *varError) Error() string { return e.msg }

// resolver resolves ${...} variables in a manifest tree in place. Values
// that come from self:, param: and file() are themselves resolved first;
// strings from env: and opt: are taken literally.
type resolver struct {
	file       string // manifest path as given, for problems
	dir        string // service directory: file() paths are relative to it
	root       *yaml.Node
	opts       map[string]string
	getenv     func(string) string
	instanceID string

	state map[*yaml.Node]int
	path  map[*yaml.Node]string
	stack []*yaml.Node
	files map[string]*yaml.Node // absolute path → parsed root (nil: missing)
	raw   map[string]string     // absolute path → raw text of non-YAML files
	// fileOf names the file of nodes read by file(), for problem positions.
	fileOf map[*yaml.Node]string

	dotenv        map[string]string
	dotenvLoading bool
	dotenvLoaded  bool

	problems []*Problem
}

func newResolver(file, dir string, root *yaml.Node, opts map[string]string, getenv func(string) string, instanceID string) *resolver {
	return &resolver{
		file: file, dir: dir, root: root, opts: opts, getenv: getenv, instanceID: instanceID,
		state: map[*yaml.Node]int{}, path: map[*yaml.Node]string{},
		files: map[string]*yaml.Node{}, raw: map[string]string{}, fileOf: map[*yaml.Node]string{},
	}
}

// resolveAll resolves every value of the tree, recording problems.
func (r *resolver) resolveAll() {
	_ = r.resolve(r.root, "")
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// resolve resolves n and everything under it in place.
func (r *resolver) resolve(n *yaml.Node, path string) error {
	switch r.state[n] {
	case stDone:
		return nil
	case stFailed:
		return errReported
	case stResolving:
		chain := []string{}
		for i := len(r.stack) - 1; i >= 0; i-- {
			if r.stack[i] == n {
				for _, s := range r.stack[i:] {
					chain = append(chain, displayPath(r.path[s]))
				}
				break
			}
		}
		chain = append(chain, displayPath(r.path[n]))
		return &cycleError{chain: chain}
	}
	r.state[n] = stResolving
	r.path[n] = path
	r.stack = append(r.stack, n)
	err := r.resolveNode(n, path)
	r.stack = r.stack[:len(r.stack)-1]
	if err != nil {
		r.state[n] = stFailed
		return err
	}
	r.state[n] = stDone
	return nil
}

func displayPath(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

func (r *resolver) resolveNode(n *yaml.Node, path string) error {
	var failed bool
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := r.resolve(c, path); err != nil {
				failed = true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := r.resolve(n.Content[i+1], joinPath(path, n.Content[i].Value)); err != nil {
				failed = true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if err := r.resolve(c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				failed = true
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") || n.Tag != tagStr && n.Tag != "" {
			return nil
		}
		out, err := r.evalTemplate(n.Value, path)
		if err != nil {
			if errors.Is(err, errReported) {
				return errReported
			}
			r.report(n, path, err)
			return errReported
		}
		line, col := n.Line, n.Column
		*n = *r.adopt(out, line, col)
	}
	if failed {
		return errReported
	}
	return nil
}

// report records a resolution problem at node n.
func (r *resolver) report(n *yaml.Node, path string, err error) {
	code := CodeMissingVariable
	var ve *varError
	var ce *cycleError
	switch {
	case errors.As(err, &ce):
		code = CodeVariableCycle
	case errors.As(err, &ve):
		code = ve.code
	}
	file := r.file
	if f, ok := r.fileOf[n]; ok {
		file = f
	}
	r.problems = append(r.problems, &Problem{
		File: file, Line: n.Line, Column: n.Column, Path: path, Code: code, Msg: err.Error(),
	})
}

// adopt copies a resolved value into the tree: positions point at the
// variable that produced it, and every copied node counts as resolved (an
// escaped "\${" must not be evaluated again).
func (r *resolver) adopt(v *yaml.Node, line, col int) *yaml.Node {
	if v == nil {
		v = scalarNode(tagNull, "null", line, col)
	}
	c := deepCopy(v)
	var mark func(*yaml.Node)
	mark = func(x *yaml.Node) {
		x.Line, x.Column = line, col
		x.Anchor = ""
		r.state[x] = stDone
		for _, k := range x.Content {
			mark(k)
		}
	}
	mark(c)
	return c
}

// part is a piece of a template: literal text or a variable body.
type part struct {
	lit   string
	body  string
	isVar bool
}

// parseTemplate splits s into literal text and ${...} bodies. "\${" is an
// escaped literal "${".
func parseTemplate(s string) ([]part, error) {
	var parts []part
	var lit strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], `\${`) {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			lit.WriteByte(s[i])
			i++
			continue
		}
		end, err := matchBrace(s, i+2)
		if err != nil {
			return nil, err
		}
		if lit.Len() > 0 {
			parts = append(parts, part{lit: lit.String()})
			lit.Reset()
		}
		parts = append(parts, part{body: s[i+2 : end], isVar: true})
		i = end + 1
	}
	if lit.Len() > 0 {
		parts = append(parts, part{lit: lit.String()})
	}
	return parts, nil
}

// matchBrace returns the index of the "}" closing a variable whose body
// starts at i, skipping nested variables and quoted strings.
func matchBrace(s string, i int) (int, error) {
	depth := 1
	for j := i; j < len(s); j++ {
		switch c := s[j]; c {
		case '\'', '"':
			k := strings.IndexByte(s[j+1:], c)
			if k < 0 {
				return 0, &varError{CodeVariableSyntax, fmt.Sprintf("unterminated quote in variable %q", s[i-2:])}
			}
			j += k + 1
		case '$':
			if j+1 < len(s) && s[j+1] == '{' {
				depth++
				j++
			}
		case '}':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	return 0, &varError{CodeVariableSyntax, fmt.Sprintf("unterminated variable %q", s[i-2:])}
}

// evalTemplate evaluates a string containing variables. A string that is
// exactly one variable keeps the value's type; otherwise every variable must
// give a scalar and the result is a string.
func (r *resolver) evalTemplate(s, path string) (*yaml.Node, error) {
	parts, err := parseTemplate(s)
	if err != nil {
		return nil, err
	}
	if len(parts) == 1 && parts[0].isVar {
		v, _, err := r.evalVar(parts[0].body, path)
		return v, err
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.isVar {
			b.WriteString(p.lit)
			continue
		}
		v, _, err := r.evalVar(p.body, path)
		if err != nil {
			return nil, err
		}
		if v == nil || isNull(v) {
			return nil, &varError{CodeMissingVariable, fmt.Sprintf("variable ${%s} resolved to null inside a string", p.body)}
		}
		if v.Kind != yaml.ScalarNode {
			return nil, &varError{CodeInvalidValue, fmt.Sprintf("variable ${%s} resolved to an %s inside a string; only strings, numbers and booleans can be embedded", p.body, kindName(v))}
		}
		b.WriteString(v.Value)
	}
	return scalarNode(tagStr, b.String(), 0, 0), nil
}

// evalVar evaluates the body of one ${...}: sources and literals separated
// by commas, tried left to right until one gives a non-null value. explicit
// reports that a literal null was chosen.
func (r *resolver) evalVar(body, path string) (v *yaml.Node, explicit bool, err error) {
	alts, err := splitTop(body)
	if err != nil {
		return nil, false, err
	}
	var tried []string
	for _, alt := range alts {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			return nil, false, &varError{CodeVariableSyntax, fmt.Sprintf("empty source in variable ${%s}", body)}
		}
		if lit, isLit, isNullLit := literal(alt); isLit {
			if isNullLit {
				return nil, true, nil
			}
			return lit, false, nil
		}
		var v *yaml.Node
		if strings.HasPrefix(alt, "${") {
			end, err := matchBrace(alt, 2)
			if err != nil {
				return nil, false, err
			}
			if end == len(alt)-1 {
				v, _, err = r.evalVar(alt[2:end], path)
				if err != nil {
					var ve *varError
					if errors.As(err, &ve) && ve.code == CodeMissingVariable {
						tried = append(tried, alt)
						continue
					}
					return nil, false, err
				}
				if v != nil && !isNull(v) {
					return v, false, nil
				}
				tried = append(tried, alt)
				continue
			}
		}
		src := alt
		if strings.Contains(src, "${") {
			s, err := r.evalTemplate(src, path)
			if err != nil {
				return nil, false, err
			}
			src = s.Value
		}
		v, err = r.source(src, path)
		if err != nil {
			return nil, false, err
		}
		if v != nil && !isNull(v) {
			return v, false, nil
		}
		tried = append(tried, src)
	}
	return nil, false, &varError{CodeMissingVariable, fmt.Sprintf("cannot resolve variable ${%s}: value not found at %s", body, quoteList(tried))}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// splitTop splits a variable body at commas outside nested variables,
// parentheses and quotes.
func splitTop(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for j := 0; j < len(s); j++ {
		switch c := s[j]; c {
		case '\'', '"':
			k := strings.IndexByte(s[j+1:], c)
			if k < 0 {
				return nil, &varError{CodeVariableSyntax, fmt.Sprintf("unterminated quote in variable ${%s}", s)}
			}
			j += k + 1
		case '(', '{':
			depth++
		case ')', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:j])
				start = j + 1
			}
		}
	}
	return append(out, s[start:]), nil
}

var numberLit = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$`)

// literal parses a fallback literal: a quoted string, number, true, false or
// null.
func literal(s string) (v *yaml.Node, isLit, isNullLit bool) {
	switch {
	case len(s) >= 2 && (s[0] == '\'' && s[len(s)-1] == '\'' || s[0] == '"' && s[len(s)-1] == '"'):
		return scalarNode(tagStr, s[1:len(s)-1], 0, 0), true, false
	case numberLit.MatchString(s):
		tag := tagInt
		if strings.Contains(s, ".") {
			tag = tagFloat
		}
		return scalarNode(tag, s, 0, 0), true, false
	case s == "true" || s == "false":
		return scalarNode(tagBool, s, 0, 0), true, false
	case s == "null":
		return nil, true, true
	}
	return nil, false, false
}

var sourceRE = regexp.MustCompile(`(?s)^([A-Za-z][A-Za-z0-9]*)(?:\((.*)\))?(?::(.*))?$`)

// source evaluates one source reference; a nil node means "no value".
func (r *resolver) source(src, path string) (*yaml.Node, error) {
	m := sourceRE.FindStringSubmatch(src)
	hasColon := strings.Contains(src, ":")
	hasParams := strings.Contains(src, "(")
	if m == nil || !hasColon && !hasParams {
		return nil, &varError{CodeInvalidLiteral, fmt.Sprintf("invalid variable source %q: a literal fallback must be quoted ('%s'), a number, true, false or null", src, src)}
	}
	name, params, addr := m[1], strings.TrimSpace(m[2]), strings.TrimSpace(m[3])
	switch name {
	case "self":
		return r.lookup(r.root, "", addr)
	case "env":
		return r.env(addr), nil
	case "opt":
		if addr == "" {
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: tagMap}
			for _, k := range sortedKeys(r.opts) {
				n.Content = append(n.Content, scalarNode(tagStr, k, 0, 0), scalarNode(tagStr, r.opts[k], 0, 0))
			}
			return n, nil
		}
		if v, ok := r.opts[addr]; ok {
			return scalarNode(tagStr, v, 0, 0), nil
		}
		return nil, nil
	case "sls":
		switch addr {
		case "stage":
			s, err := r.stage()
			return scalarNode(tagStr, s, 0, 0), err
		case "instanceId":
			return scalarNode(tagStr, r.instanceID, 0, 0), nil
		}
		return nil, &varError{CodeVariableSource, fmt.Sprintf("unknown sls variable %q (supported: sls:stage, sls:instanceId)", addr)}
	case "param":
		return r.param(addr)
	case "file":
		return r.fileSource(params, addr)
	case "strToBool":
		switch strings.ToLower(strings.Trim(params, `'"`)) {
		case "true", "1":
			return scalarNode(tagBool, "true", 0, 0), nil
		case "false", "0":
			return scalarNode(tagBool, "false", 0, 0), nil
		}
		return nil, &varError{CodeInvalidValue, fmt.Sprintf("strToBool(%s): want true, false, 0 or 1", params)}
	case "aws":
		if addr == "region" {
			reg, err := r.region()
			return scalarNode(tagStr, reg, 0, 0), err
		}
		return nil, &varError{CodeVariableSource, fmt.Sprintf("variable source %q is AWS-only and not supported by lambdad (only aws:region is)", src)}
	case "cf", "s3", "ssm", "sm":
		return nil, &varError{CodeVariableSource, fmt.Sprintf("variable source %q is AWS-only and not supported by lambdad", name)}
	}
	return nil, &varError{CodeVariableSource, fmt.Sprintf("unknown variable source %q (supported: self, env, opt, sls, param, file, strToBool, aws:region)", name)}
}

// lookup descends from base along a dotted address, resolving what it walks
// through, and returns the resolved node or nil when absent.
func (r *resolver) lookup(base *yaml.Node, basePath, addr string) (*yaml.Node, error) {
	cur, curPath := base, basePath
	if addr != "" {
		for _, seg := range strings.Split(addr, ".") {
			if cur.Kind == yaml.ScalarNode && r.state[cur] != stDone {
				if err := r.resolve(cur, curPath); err != nil {
					return nil, err
				}
			}
			switch cur.Kind {
			case yaml.MappingNode:
				next := mapGet(cur, seg)
				if next == nil {
					return nil, nil
				}
				cur, curPath = next, joinPath(curPath, seg)
			case yaml.SequenceNode:
				i, err := strconv.Atoi(seg)
				if err != nil || i < 0 || i >= len(cur.Content) {
					return nil, nil
				}
				cur, curPath = cur.Content[i], fmt.Sprintf("%s[%d]", curPath, i)
			default:
				return nil, nil
			}
		}
	}
	if err := r.resolve(cur, curPath); err != nil {
		return nil, err
	}
	return cur, nil
}

func (r *resolver) env(name string) *yaml.Node {
	if v := r.getenv(name); v != "" {
		return scalarNode(tagStr, v, 0, 0)
	}
	r.loadDotenv()
	if v, ok := r.dotenv[name]; ok {
		return scalarNode(tagStr, v, 0, 0)
	}
	return nil
}

// stage is --stage, then provider.stage, then "dev".
func (r *resolver) stage() (string, error) {
	if s := r.opts["stage"]; s != "" {
		return s, nil
	}
	return r.providerString("stage", "dev")
}

// region is --region, then provider.region, then "us-east-1".
func (r *resolver) region() (string, error) {
	if s := r.opts["region"]; s != "" {
		return s, nil
	}
	return r.providerString("region", "us-east-1")
}

func (r *resolver) providerString(key, def string) (string, error) {
	v, err := r.lookup(r.root, "", "provider."+key)
	if err != nil {
		return "", err
	}
	if isNull(v) {
		return def, nil
	}
	if v.Kind != yaml.ScalarNode {
		return "", &varError{CodeInvalidValue, fmt.Sprintf("provider.%s must be a string, not an %s", key, kindName(v))}
	}
	return v.Value, nil
}

// param is params.<stage>.<name>, then params.default.<name>.
func (r *resolver) param(name string) (*yaml.Node, error) {
	stage, err := r.stage()
	if err != nil {
		return nil, err
	}
	for _, s := range []string{stage, "default"} {
		params := mapGet(r.root, "params")
		if params == nil {
			return nil, nil
		}
		if mapGet(params, s) == nil {
			continue
		}
		v, err := r.lookup(r.root, "", "params."+s+"."+name)
		if err != nil {
			return nil, err
		}
		if !isNull(v) {
			return v, nil
		}
	}
	return nil, nil
}

// fileSource reads ${file(path):address}. A missing file gives no value so
// fallbacks apply; .yml/.yaml/.json are parsed (and their variables
// resolved), any other file is its text.
func (r *resolver) fileSource(p, addr string) (*yaml.Node, error) {
	p = strings.Trim(p, `'"`)
	if p == "" {
		return nil, &varError{CodeVariableSyntax, "file() needs a path"}
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.dir, p)
	}
	abs = filepath.Clean(abs)
	ext := strings.ToLower(filepath.Ext(abs))
	switch ext {
	case ".js", ".cjs", ".mjs", ".ts":
		return nil, &varError{CodeVariableSource, fmt.Sprintf("file(%s): JavaScript files are not supported (lambdad has no JS host)", p)}
	case ".yml", ".yaml", ".json":
	default:
		text, ok := r.raw[abs]
		if !ok {
			b, err := os.ReadFile(abs)
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil
			}
			if err != nil {
				return nil, &varError{CodeReadFile, fmt.Sprintf("file(%s): %v", p, err)}
			}
			text = string(b)
			r.raw[abs] = text
		}
		if addr != "" {
			return nil, &varError{CodeVariableSyntax, fmt.Sprintf("file(%s): an address (:%s) needs a .yml, .yaml or .json file", p, addr)}
		}
		return scalarNode(tagStr, text, 0, 0), nil
	}
	root, ok := r.files[abs]
	if !ok {
		b, err := os.ReadFile(abs)
		switch {
		case errors.Is(err, os.ErrNotExist):
			root = nil
		case err != nil:
			return nil, &varError{CodeReadFile, fmt.Sprintf("file(%s): %v", p, err)}
		default:
			var doc yaml.Node
			if err := yaml.Unmarshal(b, &doc); err != nil {
				return nil, &varError{CodeReadFile, fmt.Sprintf("file(%s): parse: %v", p, err)}
			}
			if len(doc.Content) == 0 {
				root = scalarNode(tagNull, "null", 0, 0)
			} else {
				root = doc.Content[0]
				if err := expandAliases(root, 0); err != nil {
					return nil, &varError{CodeReadFile, fmt.Sprintf("file(%s): %v", p, err)}
				}
				display := filepath.Join(filepath.Dir(r.file), p)
				if filepath.IsAbs(p) {
					display = p
				}
				var mark func(*yaml.Node)
				mark = func(x *yaml.Node) {
					r.fileOf[x] = display
					for _, c := range x.Content {
						mark(c)
					}
				}
				mark(root)
			}
		}
		r.files[abs] = root
	}
	if root == nil {
		return nil, nil
	}
	v, err := r.lookup(root, "file("+p+")", addr)
	return v, err
}

// loadDotenv loads .env.<stage> (or else .env) from the service directory
// when useDotenv: true; variables already in the environment win.
func (r *resolver) loadDotenv() {
	if r.dotenvLoaded || r.dotenvLoading {
		return
	}
	if u := mapGet(r.root, "useDotenv"); u == nil || u.Value != "true" {
		r.dotenvLoaded = true
		return
	}
	r.dotenvLoading = true
	stage, err := r.stage()
	r.dotenvLoading = false
	r.dotenvLoaded = true
	if err != nil {
		return
	}
	for _, name := range []string{".env." + stage, ".env"} {
		b, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil {
			continue
		}
		r.dotenv = parseDotenv(string(b))
		return
	}
}

// parseDotenv parses KEY=VALUE lines (optional "export ", # comments,
// single or double quotes; \n in double quotes is a newline).
func parseDotenv(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
			v = strings.ReplaceAll(v[1:len(v)-1], `\n`, "\n")
		case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
			v = v[1 : len(v)-1]
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
		}
		out[k] = v
	}
	return out
}
