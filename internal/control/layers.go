package control

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/lambdad/lambdad/internal/codezip"
	"github.com/lambdad/lambdad/internal/lambda"
	"github.com/lambdad/lambdad/internal/store"
)

// Layer model patterns as AWS prints them.
const (
	patternLayerName        = `(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+`
	patternLayerVersionARN  = `(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`
	msgLayerResourceMissing = "The resource you requested does not exist."
	msgLayerVersionBelow1   = "Layer Version Cannot be less than 1"
	maxLayerNameLen         = 140
	maxLicenseInfoLen       = 512
	maxCompatibleRuntimes   = 15
)

var (
	reLayerName       = regexp.MustCompile(`^(arn:[a-zA-Z0-9-]+:lambda:([a-zA-Z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)|([a-zA-Z0-9-_]+))$`)
	reLayerVersionARN = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:lambda:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}):(\d{12}):layer:([a-zA-Z0-9-_]+):([0-9]+)$`)
)

// layerRuntimeEnum is the Runtime enum in the order AWS prints it for the
// ListLayers/ListLayerVersions CompatibleRuntime filter [obs].
var layerRuntimeEnum = []string{"ruby3.5", "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7", "python2.7-greengrass", "dotnetcore2.0", "python3.8", "java21", "dotnet6", "dotnetcore2.1", "python3.9", "java11", "nodejs6.10", "provided", "dotnetcore3.1", "dotnet8", "java25", "java17", "nodejs", "nodejs4.3", "java8.al2", "go1.x", "dotnet10", "nodejs20.x", "go1.9", "byol", "nodejs10.x", "provided.al2023", "nodejs22.x", "python3.10", "java8", "nodejs12.x", "python3.11", "nodejs24.x", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9", "nodejs26.x", "python3.13", "python3.14", "nodejs16.x", "python3.15", "provided.al2", "nodejs4.3-edge", "nodejs18.x", "ruby3.2", "python3.4", "ruby3.3", "ruby3.4", "ruby2.5", "python3.6", "python2.7"}

// LayerContentInput is PublishLayerVersion's Content member.
type LayerContentInput struct {
	ZipFile         []byte `json:"ZipFile"`
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
}

// PublishLayerVersionInput is the PublishLayerVersion request body.
type PublishLayerVersionInput struct {
	LayerName               string             `json:"-"`
	Description             *string            `json:"Description"`
	Content                 *LayerContentInput `json:"Content"`
	CompatibleRuntimes      []string           `json:"CompatibleRuntimes"`
	LicenseInfo             *string            `json:"LicenseInfo"`
	CompatibleArchitectures []string           `json:"CompatibleArchitectures"`
}

// LayerVersionContent is a layer version's Content member.
type LayerVersionContent struct {
	Location   string `json:"Location"`
	CodeSha256 string `json:"CodeSha256"`
	CodeSize   int64  `json:"CodeSize"`
}

// LayerVersionOutput is the Publish/GetLayerVersion(ByArn) response body.
type LayerVersionOutput struct {
	Content                 *LayerVersionContent `json:"Content,omitempty"`
	LayerArn                string               `json:"LayerArn,omitempty"`
	LayerVersionArn         string               `json:"LayerVersionArn"`
	Description             string               `json:"Description"`
	CreatedDate             string               `json:"CreatedDate"`
	Version                 int64                `json:"Version"`
	CompatibleRuntimes      []string             `json:"CompatibleRuntimes"`
	LicenseInfo             string               `json:"LicenseInfo,omitempty"`
	CompatibleArchitectures []string             `json:"CompatibleArchitectures"`
}

// ListLayerVersionsOutput is the ListLayerVersions response body.
type ListLayerVersionsOutput struct {
	LayerVersions []LayerVersionOutput `json:"LayerVersions"`
	NextMarker    string               `json:"NextMarker,omitempty"`
}

// LayersListItem is one ListLayers entry.
type LayersListItem struct {
	LayerName             string             `json:"LayerName"`
	LayerArn              string             `json:"LayerArn"`
	LatestMatchingVersion LayerVersionOutput `json:"LatestMatchingVersion"`
}

// ListLayersOutput is the ListLayers response body.
type ListLayersOutput struct {
	Layers     []LayersListItem `json:"Layers"`
	NextMarker string           `json:"NextMarker,omitempty"`
}

// ListLayersInput holds ListLayers/ListLayerVersions' query parameters.
type ListLayersInput struct {
	LayerName              string // ListLayerVersions only
	CompatibleRuntime      string
	CompatibleArchitecture string
	Marker                 string
	MaxItems               string
}

func listOf(vals []string) string { return "[" + strings.Join(vals, ", ") + "]" }

// layerName parses a LayerName path parameter (name or layer ARN).
func (s *Service) layerName(param string) (string, error) {
	var v lambda.Violations
	if len(param) > maxLayerNameLen {
		v.Add(param, "layerName", lambda.ConstraintMaxLen(maxLayerNameLen))
	}
	m := reLayerName.FindStringSubmatch(param)
	if m == nil {
		v.Add(param, "layerName", lambda.ConstraintPattern(patternLayerName))
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	if m[5] != "" {
		return m[5], nil
	}
	if m[2] != s.d.Region || m[3] != s.d.AccountID {
		return "", lambda.NotFound(msgLayerResourceMissing)
	}
	return m[4], nil
}

func (s *Service) layerVersionARN(name string, n int64) string {
	return lambda.LayerARN(s.d.Region, s.d.AccountID, name) + ":" + strconv.FormatInt(n, 10)
}

// LayerDownloadPath is the path (under the API) serving a layer version's zip.
func LayerDownloadPath(name string, n int64) string {
	return "/2018-10-31/layers/" + url.PathEscape(name) + "/versions/" + strconv.FormatInt(n, 10) + "/content-download"
}

func (s *Service) layerOutput(l *lambda.LayerVersion, full bool) LayerVersionOutput {
	out := LayerVersionOutput{
		LayerVersionArn:         s.layerVersionARN(l.LayerName, l.Version),
		Description:             l.Description,
		CreatedDate:             l.CreatedDate,
		Version:                 l.Version,
		CompatibleRuntimes:      append([]string{}, l.CompatibleRuntimes...),
		LicenseInfo:             l.LicenseInfo,
		CompatibleArchitectures: append([]string{}, l.CompatibleArchitectures...),
	}
	if full {
		base := ""
		if s.d.BaseURL != nil {
			base = strings.TrimSuffix(s.d.BaseURL(), "/")
		}
		out.LayerArn = lambda.LayerARN(s.d.Region, s.d.AccountID, l.LayerName)
		out.Content = &LayerVersionContent{
			Location:   base + LayerDownloadPath(l.LayerName, l.Version) + "?CodeSha256=" + url.QueryEscape(l.CodeSha256),
			CodeSha256: l.CodeSha256,
			CodeSize:   l.CodeSize,
		}
	}
	return out
}

// PublishLayerVersion stores a new version of a layer (201). Version
// numbers are never reused, even after every version was deleted.
func (s *Service) PublishLayerVersion(ctx context.Context, in *PublishLayerVersionInput) (*LayerVersionOutput, error) {
	var v lambda.Violations
	if len(in.LayerName) > maxLayerNameLen {
		v.Add(in.LayerName, "layerName", lambda.ConstraintMaxLen(maxLayerNameLen))
	}
	if !reLayerName.MatchString(in.LayerName) {
		v.Add(in.LayerName, "layerName", lambda.ConstraintPattern(patternLayerName))
	}
	if in.Content == nil {
		v.Add("null", "content", "Member must not be null")
	}
	if in.Description != nil && len(*in.Description) > lambda.MaxDescriptionLen {
		v.Add(*in.Description, "description", lambda.ConstraintMaxLen(lambda.MaxDescriptionLen))
	}
	if in.LicenseInfo != nil && len(*in.LicenseInfo) > maxLicenseInfoLen {
		v.Add(*in.LicenseInfo, "licenseInfo", lambda.ConstraintMaxLen(maxLicenseInfoLen))
	}
	if len(in.CompatibleRuntimes) > maxCompatibleRuntimes {
		v.Add(listOf(in.CompatibleRuntimes), "compatibleRuntimes", lambda.ConstraintMaxLen(maxCompatibleRuntimes))
	}
	for _, r := range in.CompatibleRuntimes {
		if !lambda.IsSupportedRuntime(r) {
			v.Add(listOf(in.CompatibleRuntimes), "compatibleRuntimes", lambda.ConstraintEnum(lambda.SupportedRuntimes()...))
			break
		}
	}
	if len(in.CompatibleArchitectures) > 2 {
		v.Add(listOf(in.CompatibleArchitectures), "compatibleArchitectures", lambda.ConstraintMaxLen(2))
	}
	for _, a := range in.CompatibleArchitectures {
		if a != lambda.ArchX8664 && a != lambda.ArchARM64 {
			v.Add(listOf(in.CompatibleArchitectures), "compatibleArchitectures", "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
			break
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, err := s.layerName(in.LayerName)
	if err != nil {
		return nil, err
	}
	if in.Content.S3Bucket != "" || in.Content.S3Key != "" {
		return nil, lambda.InvalidParameter("S3 code sources are not supported by lambdad; upload the layer content as ZipFile.")
	}
	if len(in.Content.ZipFile) == 0 {
		return nil, lambda.InvalidParameter("Please provide a source for layer content.")
	}
	info, err := codezip.Validate(in.Content.ZipFile)
	if err != nil {
		return nil, err
	}
	sha, err := s.d.Store.PutCode(ctx, in.Content.ZipFile)
	if err != nil {
		return nil, err
	}
	n, err := s.nextLayerVersion(ctx, name)
	if err != nil {
		return nil, err
	}
	l := &lambda.LayerVersion{
		LayerName:               name,
		Version:                 n,
		CreatedDate:             s.now(),
		CompatibleRuntimes:      append([]string{}, in.CompatibleRuntimes...),
		CompatibleArchitectures: append([]string{}, in.CompatibleArchitectures...),
		CodeSha256:              sha,
		CodeSize:                int64(len(in.Content.ZipFile)),
		UnzippedSize:            info.UnzippedSize,
	}
	if in.Description != nil {
		l.Description = *in.Description
	}
	if in.LicenseInfo != nil {
		l.LicenseInfo = *in.LicenseInfo
	}
	if _, err := s.d.Store.CreateRecord(ctx, store.KindLayer, name, strconv.FormatInt(n, 10), l); err != nil {
		return nil, err
	}
	s.log.Info("layer version published", "layer", name, "version", n, "code_sha256", sha)
	out := s.layerOutput(l, true)
	return &out, nil
}

// nextLayerVersion allocates the next number of layer name (CAS counter).
func (s *Service) nextLayerVersion(ctx context.Context, name string) (int64, error) {
	for {
		var last int64
		rev, err := s.d.Store.Record(ctx, store.KindLayerSeq, name, "n", &last)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if _, err := s.d.Store.CreateRecord(ctx, store.KindLayerSeq, name, "n", int64(1)); errors.Is(err, store.ErrExists) {
				continue
			} else if err != nil {
				return 0, err
			}
			return 1, nil
		case err != nil:
			return 0, err
		}
		if _, err := s.d.Store.UpdateRecord(ctx, store.KindLayerSeq, name, "n", last+1, rev); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return 0, err
		}
		return last + 1, nil
	}
}

// layerVersion reads version n of layer name; missing is the 404 AWS
// sends for GetLayerVersion.
func (s *Service) layerVersion(ctx context.Context, name string, n int64) (*lambda.LayerVersion, uint64, error) {
	var l lambda.LayerVersion
	rev, err := s.d.Store.Record(ctx, store.KindLayer, name, strconv.FormatInt(n, 10), &l)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, lambda.NotFound(msgLayerResourceMissing)
	}
	if err != nil {
		return nil, 0, err
	}
	return &l, rev, nil
}

func parseLayerVersionNumber(raw string) (int64, error) {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, lambda.InvalidParameter("Invalid value for VersionNumber: %s", raw)
	}
	if n < 1 {
		return 0, lambda.InvalidParameter(msgLayerVersionBelow1)
	}
	return n, nil
}

// GetLayerVersion returns one layer version.
func (s *Service) GetLayerVersion(ctx context.Context, layer, version string) (*LayerVersionOutput, error) {
	name, err := s.layerName(layer)
	if err != nil {
		return nil, err
	}
	n, err := parseLayerVersionNumber(version)
	if err != nil {
		return nil, err
	}
	l, _, err := s.layerVersion(ctx, name, n)
	if err != nil {
		return nil, err
	}
	out := s.layerOutput(l, true)
	return &out, nil
}

// GetLayerVersionByArn returns the layer version a version ARN names.
func (s *Service) GetLayerVersionByArn(ctx context.Context, arn string) (*LayerVersionOutput, error) {
	m := reLayerVersionARN.FindStringSubmatch(arn)
	if m == nil || len(arn) > maxLayerNameLen {
		var v lambda.Violations
		if len(arn) > maxLayerNameLen {
			v.Add(arn, "arn", lambda.ConstraintMaxLen(maxLayerNameLen))
		}
		if m == nil {
			v.Add(arn, "arn", lambda.ConstraintPattern(patternLayerVersionARN))
		}
		return nil, v.Err()
	}
	if m[2] != s.d.Region || m[8] != s.d.AccountID {
		return nil, lambda.NotFound(msgLayerResourceMissing)
	}
	return s.GetLayerVersion(ctx, m[9], m[10])
}

// DeleteLayerVersion deletes one layer version (204, also when absent).
// Functions using it keep working: they recorded its content.
func (s *Service) DeleteLayerVersion(ctx context.Context, layer, version string) error {
	name, err := s.layerName(layer)
	if err != nil {
		return err
	}
	n, err := parseLayerVersionNumber(version)
	if err != nil {
		return err
	}
	id := strconv.FormatInt(n, 10)
	if err := s.d.Store.DeleteRecord(ctx, store.KindLayer, name, id, 0); err != nil {
		return err
	}
	return s.d.Store.DeleteRecord(ctx, store.KindLayerPolicy, name, id, 0)
}

func layerFilterViolations(v *lambda.Violations, in ListLayersInput) {
	if in.CompatibleRuntime != "" {
		ok := false
		for _, r := range layerRuntimeEnum {
			ok = ok || r == in.CompatibleRuntime
		}
		if !ok {
			v.Add(in.CompatibleRuntime, "compatibleRuntime", lambda.ConstraintEnum(layerRuntimeEnum...))
		}
	}
	if a := in.CompatibleArchitecture; a != "" && a != lambda.ArchX8664 && a != lambda.ArchARM64 {
		v.Add(a, "compatibleArchitecture", lambda.ConstraintEnum(lambda.ArchX8664, lambda.ArchARM64))
	}
}

func (in ListLayersInput) matches(l *lambda.LayerVersion) bool {
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	return (in.CompatibleRuntime == "" || has(l.CompatibleRuntimes, in.CompatibleRuntime)) &&
		(in.CompatibleArchitecture == "" || has(l.CompatibleArchitectures, in.CompatibleArchitecture))
}

// layerVersions returns the stored versions of layer name ("" = all
// layers), sorted by layer name then version descending.
func (s *Service) layerVersions(ctx context.Context, name string) ([]*lambda.LayerVersion, error) {
	es, err := s.d.Store.Records(ctx, store.KindLayer, name)
	if err != nil {
		return nil, err
	}
	out := make([]*lambda.LayerVersion, 0, len(es))
	for _, e := range es {
		var l lambda.LayerVersion
		if err := e.Decode(&l); err != nil {
			return nil, err
		}
		out = append(out, &l)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].LayerName != out[j].LayerName {
			return out[i].LayerName < out[j].LayerName
		}
		return out[i].Version > out[j].Version
	})
	return out, nil
}

// ListLayerVersions lists a layer's versions, newest first (an unknown
// layer lists nothing).
func (s *Service) ListLayerVersions(ctx context.Context, in ListLayersInput) (*ListLayerVersionsOutput, error) {
	var v lambda.Violations
	layerFilterViolations(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	name, err := s.layerName(in.LayerName)
	if err != nil {
		return nil, err
	}
	max, err := parseMaxItems(in.MaxItems, lambda.MaxListItems)
	if err != nil {
		return nil, err
	}
	ls, err := s.layerVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	all := []LayerVersionOutput{}
	for _, l := range ls {
		if in.matches(l) {
			all = append(all, s.layerOutput(l, false))
		}
	}
	page, next, err := paginate(all, in.Marker, max, func(o LayerVersionOutput) string { return o.LayerVersionArn })
	if err != nil {
		return nil, err
	}
	return &ListLayerVersionsOutput{LayerVersions: page, NextMarker: next}, nil
}

// ListLayers lists every layer with its newest version matching the filters.
func (s *Service) ListLayers(ctx context.Context, in ListLayersInput) (*ListLayersOutput, error) {
	var v lambda.Violations
	layerFilterViolations(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}
	max, err := parseMaxItems(in.MaxItems, lambda.MaxListItems)
	if err != nil {
		return nil, err
	}
	ls, err := s.layerVersions(ctx, "")
	if err != nil {
		return nil, err
	}
	all := []LayersListItem{}
	for _, l := range ls {
		if !in.matches(l) || (len(all) > 0 && all[len(all)-1].LayerName == l.LayerName) {
			continue
		}
		all = append(all, LayersListItem{LayerName: l.LayerName, LayerArn: lambda.LayerARN(s.d.Region, s.d.AccountID, l.LayerName), LatestMatchingVersion: s.layerOutput(l, false)})
	}
	page, next, err := paginate(all, in.Marker, max, func(i LayersListItem) string { return i.LayerName })
	if err != nil {
		return nil, err
	}
	return &ListLayersOutput{Layers: page, NextMarker: next}, nil
}

// LayerCode returns the zip of layer version n if its content has
// CodeSha256 sha (Content.Location names the content it was issued for).
func (s *Service) LayerCode(ctx context.Context, layer, version, sha string) ([]byte, error) {
	l, err := s.GetLayerVersion(ctx, layer, version)
	if err != nil {
		return nil, err
	}
	if l.Content.CodeSha256 != sha {
		return nil, lambda.NotFound(msgLayerResourceMissing)
	}
	return s.d.Store.Code(ctx, sha)
}

// layerCodes validates a function's Layers list with AWS's rules and
// messages and returns each version's content; codeUnzipped is the
// function code's uncompressed size (0 to skip the 250 MB check here).
func (s *Service) layerCodes(ctx context.Context, arns []string, codeUnzipped int64) ([]lambda.LayerCode, error) {
	if len(arns) > lambda.MaxLayers {
		return nil, lambda.InvalidParameter("Cannot reference more than %d layers.", lambda.MaxLayers)
	}
	seen := map[string]string{}
	var out []lambda.LayerCode
	for _, a := range arns {
		m := reLayerVersionARN.FindStringSubmatch(a)
		if m == nil {
			continue // the model check reports it
		}
		if m[2] != s.d.Region {
			return nil, lambda.InvalidParameter("Layers are not in the same region as the function. Layers are expected to be in region %s.", s.d.Region)
		}
		if prev, dup := seen[m[9]]; dup {
			return nil, lambda.InvalidParameter("Two different versions of the same layer are not allowed to be referenced in the same function. %s and %s are versions of the same layer.", prev, a)
		}
		seen[m[9]] = a
	}
	for _, a := range arns {
		m := reLayerVersionARN.FindStringSubmatch(a)
		if m == nil {
			continue
		}
		n, _ := strconv.ParseInt(m[10], 10, 64)
		var l lambda.LayerVersion
		_, err := s.d.Store.Record(ctx, store.KindLayer, m[9], strconv.FormatInt(n, 10), &l)
		if m[8] != s.d.AccountID || errors.Is(err, store.ErrNotFound) {
			return nil, lambda.InvalidParameter("Layer version %s does not exist.", a)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, lambda.LayerCode{Arn: a, CodeSha256: l.CodeSha256, CodeSize: l.CodeSize, UnzippedSize: l.UnzippedSize})
	}
	if codeUnzipped > 0 {
		if err := checkUnzipped(codeUnzipped, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkUnzipped enforces the 250 MB limit on code plus layers.
func checkUnzipped(code int64, layers []lambda.LayerCode) error {
	total := code
	for _, l := range layers {
		total += l.UnzippedSize
	}
	if total > lambda.MaxUnzippedCodeBytes {
		return lambda.InvalidParameter("Function code combined with layers exceeds the maximum allowed size of %d bytes. The actual size is %d bytes.", lambda.MaxUnzippedCodeBytes, total)
	}
	return nil
}

// setLayers records layers as the function's Layers and LayerCode.
func setLayers(fn *lambda.Function, layers []lambda.LayerCode) {
	fn.LayerCode = layers
	fn.Config.Layers = nil
	for _, l := range layers {
		fn.Config.Layers = append(fn.Config.Layers, lambda.Layer{Arn: l.Arn, CodeSize: l.CodeSize})
	}
}
