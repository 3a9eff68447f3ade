package lambda

import (
	"fmt"
	"regexp"
	"strings"
)

// Patterns exactly as AWS prints them in ValidationException messages [obs].
const (
	// PatternFunctionName is RE_FN (CreateFunction, Update*, ...).
	PatternFunctionName = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`
	// PatternNamespacedFunctionName is RE_NSFN (Get*, Delete, Invoke).
	PatternNamespacedFunctionName = `(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?`
	// PatternQualifier is RE_QUAL.
	PatternQualifier = `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`
	// PatternRole is RE_ROLE.
	PatternRole = `arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
	// PatternBareName is a function's own name.
	PatternBareName = `[a-zA-Z0-9-_]+`
)

var (
	reFunctionName   = regexp.MustCompile(`^` + PatternFunctionName + `$`)
	reNSFunctionName = regexp.MustCompile(`^` + PatternNamespacedFunctionName + `$`)
	reQualifier      = regexp.MustCompile(`^(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9\-_$]+)$`)
	reRole           = regexp.MustCompile(`^` + PatternRole + `$`)
	reBareName       = regexp.MustCompile(`^` + PatternBareName + `$`)
)

// FunctionRef is a FunctionName parameter taken apart. Region and Account are
// empty when the caller gave a bare name; Qualifier is empty when none was
// embedded in the name.
type FunctionRef struct {
	Region, Account, Name, Qualifier string
}

// ParseFunctionName parses a FunctionName parameter (name, name:qualifier,
// account:function:name[:qualifier] or a full ARN). namespaced selects the
// RE_NSFN pattern and 256-char limit of Get*/Delete/Invoke instead of the
// RE_FN pattern and 140-char limit. A malformed value is a
// ValidationException worded as AWS words it.
func ParseFunctionName(s string, namespaced bool) (FunctionRef, error) {
	ref, v := ParseFunctionNameViolations(s, namespaced)
	return ref, v.Err()
}

// ParseFunctionNameViolations is ParseFunctionName returning the individual
// violations, for callers that report them together with others.
func ParseFunctionNameViolations(s string, namespaced bool) (FunctionRef, Violations) {
	// Fast path for the common bare name (no regexp on the invoke path): it
	// is exactly what the patterns' name group accepts, with no prefix and
	// no qualifier.
	if bareName(s) {
		return FunctionRef{Name: s}, nil
	}
	re, pattern, maxLen := reFunctionName, PatternFunctionName, MaxFunctionParamLen
	if namespaced {
		re, pattern, maxLen = reNSFunctionName, PatternNamespacedFunctionName, MaxNSFunctionParamLen
	}
	var v Violations
	if len(s) > maxLen {
		v.Add(s, "functionName", ConstraintMaxLen(maxLen))
	}
	if s == "" {
		v.Add(s, "functionName", ConstraintMinLen(1))
	}
	m := re.FindStringSubmatch(s)
	if m == nil {
		v.Add(s, "functionName", ConstraintPattern(pattern))
	}
	if len(v) > 0 {
		return FunctionRef{}, v
	}
	// Groups: 3 = "region:", 9 = "account:", 11 = name, 13 = qualifier.
	return FunctionRef{
		Region:    strings.TrimSuffix(m[3], ":"),
		Account:   strings.TrimSuffix(m[9], ":"),
		Name:      m[11],
		Qualifier: m[13],
	}, nil
}

// ValidateQualifier checks a ?Qualifier value against RE_QUAL and its length.
func ValidateQualifier(q string) error {
	var v Violations
	if len(q) > MaxQualifierLen {
		v.Add(q, "qualifier", ConstraintMaxLen(MaxQualifierLen))
	}
	if !reQualifier.MatchString(q) {
		v.Add(q, "qualifier", ConstraintPattern(PatternQualifier))
	}
	return v.Err()
}

// Scope checks that ref belongs to region and account and merges the ?Qualifier
// query value. It returns AWS's errors: 404 for another region, 403 for another
// account, 400 when the embedded and the query qualifier differ.
func (r FunctionRef) Scope(region, account, queryQualifier string) (FunctionRef, error) {
	if r.Region != "" && r.Region != region {
		return r, NotFound(fmt.Sprintf("Functions from '%s' are not reachable in this region ('%s')", r.Region, region))
	}
	if r.Account != "" && r.Account != account {
		return r, AccessDenied(fmt.Sprintf("User is not authorized to access a function in account %s", r.Account))
	}
	if queryQualifier != "" {
		if r.Qualifier != "" && r.Qualifier != queryQualifier {
			return r, InvalidParameter(MsgQualifierMismatch)
		}
		r.Qualifier = queryQualifier
	}
	return r, nil
}

// ValidBareName reports whether s is a valid function name of at most 64 chars.
func ValidBareName(s string) bool {
	return len(s) <= MaxFunctionNameLen && reBareName.MatchString(s)
}

// ValidRole reports whether s matches RE_ROLE.
func ValidRole(s string) bool { return reRole.MatchString(s) }

// FunctionARN is arn:aws:lambda:REGION:ACCOUNT:function:NAME.
func FunctionARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// QualifiedFunctionARN appends ":qualifier" to the function ARN when
// qualifier is not empty.
func QualifiedFunctionARN(region, account, name, qualifier string) string {
	a := FunctionARN(region, account, name)
	if qualifier != "" {
		a += ":" + qualifier
	}
	return a
}

// bareName reports whether s is a plain function name: 1–64 of
// [a-zA-Z0-9-_] (within both patterns' length limits).
func bareName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
