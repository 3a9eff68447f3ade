package manifest

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Validation modes (configValidationMode). They govern schema findings
// (unknown keys, wrong types, out-of-range values); findings that make the
// file impossible to deploy are errors in every mode.
const (
	ModeError = "error"
	ModeWarn  = "warn"
	ModeOff   = "off"
)

// awsPolicy is what happens to an AWS-only field (serverless.md §1).
type awsPolicy int

const (
	awsWarn   awsPolicy = iota // accept, ignore, warn
	awsReject                  // error unless listed in the escape hatch
	awsNever                   // error, no escape hatch (cannot work at all)
)

// awsField describes an AWS-only field: the policy and why.
type awsField struct {
	policy awsPolicy
	why    string
	hatch  string // escape-hatch name; default: the key itself
}

// decoder validates a resolved tree and builds the Spec.
type decoder struct {
	file     string
	mode     string
	ignore   map[string]bool // escape hatch: AWS-only rejects downgraded to warnings
	problems []*Problem
	warnings []Warning
}

func (d *decoder) add(n *yaml.Node, path, code, msg string) {
	p := &Problem{File: d.file, Path: path, Code: code, Msg: msg}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

// errorf records a finding that is an error in every validation mode.
func (d *decoder) errorf(n *yaml.Node, path, code, format string, args ...any) {
	d.add(n, path, code, fmt.Sprintf(format, args...))
}

// schemaf records a schema finding, governed by configValidationMode.
func (d *decoder) schemaf(n *yaml.Node, path, code, format string, args ...any) {
	switch d.mode {
	case ModeOff:
	case ModeWarn:
		d.warnf(n, path, code, format, args...)
	default:
		d.add(n, path, code, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) warnf(n *yaml.Node, path, code, format string, args ...any) {
	w := Warning{File: d.file, Path: path, Code: code, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		w.Line, w.Column = n.Line, n.Column
	}
	d.warnings = append(d.warnings, w)
}

// object checks that n is a mapping whose keys are known or AWS-only, and
// returns the values of the known keys. Unknown keys get a "did you mean".
func (d *decoder) object(n *yaml.Node, path string, known []string, aws map[string]awsField) map[string]*yaml.Node {
	if n == nil || isNull(n) {
		return map[string]*yaml.Node{}
	}
	if n.Kind != yaml.MappingNode {
		d.schemaf(n, path, CodeInvalidValue, "must be an object, not %s %s", article(n), kindName(n))
		return map[string]*yaml.Node{}
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		if _, dup := out[k.Value]; dup {
			d.errorf(k, kp, CodeInvalidValue, "duplicate key %q", k.Value)
			continue
		}
		if slices.Contains(known, k.Value) {
			out[k.Value] = v
			continue
		}
		if f, ok := aws[k.Value]; ok {
			d.awsOnly(k, kp, k.Value, f)
			continue
		}
		cands := slices.Clone(known)
		for a := range aws {
			cands = append(cands, a)
		}
		hint := ""
		if s := suggest(k.Value, cands); s != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.schemaf(k, kp, CodeUnknownKey, "unknown key %q%s", k.Value, hint)
	}
	return out
}

// awsOnly applies the §1 policy to an AWS-only field that is present.
func (d *decoder) awsOnly(n *yaml.Node, path, key string, f awsField) {
	hatch := f.hatch
	if hatch == "" {
		hatch = key
	}
	switch {
	case f.policy == awsWarn:
		d.warnf(n, path, CodeAWSOnlyIgnored, "%s is AWS-only and ignored by lambdad: %s", key, f.why)
	case f.policy == awsReject && d.ignore[hatch]:
		d.warnf(n, path, CodeAWSOnlyIgnored, "%s is AWS-only and ignored because %q is in ignoreAwsOnly: %s", key, hatch, f.why)
	case f.policy == awsReject:
		d.errorf(n, path, CodeAWSOnlyRejected, "%s is not supported by lambdad: %s; to deploy without it, add %q to custom.platform.ignoreAwsOnly (or pass --ignore-aws-only %s)", key, f.why, hatch, hatch)
	default:
		d.errorf(n, path, CodeUnsupported, "%s is not supported by lambdad: %s", key, f.why)
	}
}

// rejectUnlessIgnored applies awsReject to a value (not a key): msg says
// what is unsupported and why.
func (d *decoder) rejectUnlessIgnored(n *yaml.Node, path, hatch, msg string) {
	if d.ignore[hatch] {
		d.warnf(n, path, CodeAWSOnlyIgnored, "ignored because %q is in ignoreAwsOnly: %s", hatch, msg)
		return
	}
	d.errorf(n, path, CodeAWSOnlyRejected, "%s; to deploy without it, add %q to custom.platform.ignoreAwsOnly (or pass --ignore-aws-only %s)", msg, hatch, hatch)
}

func article(n *yaml.Node) string {
	switch kindName(n) {
	case "object", "array":
		return "an"
	}
	return "a"
}

// str reads a scalar as a string (numbers and booleans are coerced, as the
// Framework's validator does).
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n == nil || isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		if n.Kind == yaml.MappingNode && len(n.Content) == 2 && isIntrinsic(n.Content[0].Value) {
			d.errorf(n, path, CodeUnsupported, "CloudFormation intrinsic %s is not supported by lambdad", n.Content[0].Value)
			return "", false
		}
		d.schemaf(n, path, CodeInvalidValue, "must be a string, not %s %s", article(n), kindName(n))
		return "", false
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		d.errorf(n, path, CodeUnsupported, "CloudFormation intrinsic %s is not supported by lambdad", n.Tag)
		return "", false
	}
	return n.Value, true
}

// isIntrinsic reports whether key is a CloudFormation intrinsic function.
func isIntrinsic(key string) bool {
	return key == "Ref" || key == "Condition" || strings.HasPrefix(key, "Fn::")
}

// pattern reads a string that must match re (described by want).
func (d *decoder) pattern(n *yaml.Node, path string, re *regexp.Regexp, want string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !re.MatchString(s) {
		d.schemaf(n, path, CodeInvalidValue, "%q must be %s", s, want)
		return "", false
	}
	return s, true
}

// enum reads a string that must be one of vals.
func (d *decoder) enum(n *yaml.Node, path string, vals ...string) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if !slices.Contains(vals, s) {
		hint := ""
		if h := suggest(s, vals); h != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", h)
		}
		d.schemaf(n, path, CodeInvalidValue, "%q must be one of %s%s", s, strings.Join(vals, ", "), hint)
		return "", false
	}
	return s, true
}

// integer reads an integer in [lo, hi] (strings holding integers are
// coerced, so ${env:...} values work).
func (d *decoder) integer(n *yaml.Node, path string, lo, hi int) (int, bool) {
	if n == nil || isNull(n) {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != tagInt && n.Tag != tagStr {
		d.schemaf(n, path, CodeInvalidValue, "must be an integer, not %s %s", article(n), kindName(n))
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(n.Value))
	if err != nil {
		d.schemaf(n, path, CodeInvalidValue, "must be an integer, not %q", n.Value)
		return 0, false
	}
	if v < lo || v > hi {
		if hi >= 1<<30 {
			d.schemaf(n, path, CodeInvalidValue, "%d must be at least %d", v, lo)
		} else {
			d.schemaf(n, path, CodeInvalidValue, "%d is out of range %d–%d", v, lo, hi)
		}
		return 0, false
	}
	return v, true
}

// intPtr is integer as a pointer (nil when absent or invalid).
func (d *decoder) intPtr(n *yaml.Node, path string, lo, hi int) *int {
	v, ok := d.integer(n, path, lo, hi)
	if !ok {
		return nil
	}
	return &v
}

// boolean reads a boolean ("true"/"false" strings are coerced).
func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	if n == nil || isNull(n) {
		return false, false
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == tagBool || n.Tag == tagStr) {
		switch strings.ToLower(n.Value) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	d.schemaf(n, path, CodeInvalidValue, "must be a boolean, not %s", describe(n))
	return false, false
}

func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return article(n) + " " + kindName(n)
}

// strList reads an array of strings; a single string is a one-element
// array (the Framework's validator coerces the same way).
func (d *decoder) strList(n *yaml.Node, path string) []string {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		s, ok := d.str(n, path)
		if !ok {
			return nil
		}
		return []string{s}
	}
	if n.Kind != yaml.SequenceNode {
		d.schemaf(n, path, CodeInvalidValue, "must be an array of strings, not %s %s", article(n), kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		if s, ok := d.str(c, fmt.Sprintf("%s[%d]", path, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// list returns the items of an array (nil and a finding otherwise).
func (d *decoder) list(n *yaml.Node, path string) []*yaml.Node {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.schemaf(n, path, CodeInvalidValue, "must be an array, not %s %s", article(n), kindName(n))
		return nil
	}
	return n.Content
}

// strMap reads a string → string object; keys are checked by checkKey.
func (d *decoder) strMap(n *yaml.Node, path string, checkKey func(k *yaml.Node, path string) bool) map[string]string {
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.schemaf(n, path, CodeInvalidValue, "must be an object, not %s %s", article(n), kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		if !checkKey(k, kp) {
			continue
		}
		if isNull(v) {
			d.schemaf(v, kp, CodeInvalidValue, "must be a string, not null")
			continue
		}
		s, ok := d.str(v, kp)
		if !ok {
			continue
		}
		out[k.Value] = s
	}
	return out
}
