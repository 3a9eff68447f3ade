package api_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const layerPrefix = "arn:aws:lambda:us-east-1:000000000000:layer:"

func publishLayer(t *testing.T, s *server, name string, zipb []byte, runtimes ...types.Runtime) *awslambda.PublishLayerVersionOutput {
	t.Helper()
	out, err := s.client.PublishLayerVersion(t.Context(), &awslambda.PublishLayerVersionInput{
		LayerName: aws.String(name), Content: &types.LayerVersionContentInput{ZipFile: zipb},
		CompatibleRuntimes: runtimes, CompatibleArchitectures: []types.Architecture{types.ArchitectureX8664},
		Description: aws.String("d"), LicenseInfo: aws.String("MIT"),
	})
	if err != nil {
		t.Fatalf("PublishLayerVersion(%s): %v", name, err)
	}
	return out
}

func TestE2ELayers(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	zipb := makeZip(t, zfile{name: "python/dep.py", body: "V = 1\n"})

	l1 := publishLayer(t, s, "dep", zipb, types.RuntimePython312)
	if aws.ToString(l1.LayerArn) != layerPrefix+"dep" || aws.ToString(l1.LayerVersionArn) != layerPrefix+"dep:1" || l1.Version != 1 ||
		aws.ToString(l1.Content.CodeSha256) != lambdaSha(zipb) || l1.Content.CodeSize != int64(len(zipb)) || aws.ToString(l1.LicenseInfo) != "MIT" {
		t.Fatalf("PublishLayerVersion = %+v", l1)
	}
	// Content.Location serves the zip.
	resp, err := http.Get(aws.ToString(l1.Content.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, zipb) {
		t.Fatalf("GET Content.Location = %d, %d bytes", resp.StatusCode, len(body))
	}
	l2 := publishLayer(t, s, "dep", zipb, types.RuntimeNodejs20x)
	if l2.Version != 2 {
		t.Fatalf("second layer version = %d", l2.Version)
	}
	empty, err := s.client.PublishLayerVersion(ctx, &awslambda.PublishLayerVersionInput{LayerName: aws.String("bare"), Content: &types.LayerVersionContentInput{ZipFile: zipb}})
	if err != nil || empty.CompatibleRuntimes == nil || len(empty.CompatibleRuntimes) != 0 || empty.CompatibleArchitectures == nil {
		t.Fatalf("PublishLayerVersion(bare) = %+v, %v", empty, err)
	}

	// Validation of the publish request.
	_, err = s.client.PublishLayerVersion(ctx, &awslambda.PublishLayerVersionInput{LayerName: aws.String("x"), Content: &types.LayerVersionContentInput{ZipFile: zipb},
		CompatibleRuntimes: []types.Runtime{"invalidruntime"}, CompatibleArchitectures: []types.Architecture{"invalidarch"}})
	apiErr(t, err, "ValidationException", "2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]; Value '[invalidarch]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
	_, err = s.client.PublishLayerVersion(ctx, &awslambda.PublishLayerVersionInput{LayerName: aws.String("x"), Content: &types.LayerVersionContentInput{ZipFile: []byte("not a zip")}})
	apiErr(t, err, "InvalidParameterValueException", "Could not unzip uploaded file. Please check your file, then try to upload again.")

	// Get, by ARN, errors.
	g, err := s.client.GetLayerVersion(ctx, &awslambda.GetLayerVersionInput{LayerName: aws.String("dep"), VersionNumber: aws.Int64(1)})
	if err != nil || aws.ToString(g.LayerVersionArn) != layerPrefix+"dep:1" || g.CompatibleRuntimes[0] != types.RuntimePython312 {
		t.Fatalf("GetLayerVersion = %+v, %v", g, err)
	}
	ga, err := s.client.GetLayerVersionByArn(ctx, &awslambda.GetLayerVersionByArnInput{Arn: aws.String(layerPrefix + "dep:2")})
	if err != nil || ga.Version != 2 {
		t.Fatalf("GetLayerVersionByArn = %+v, %v", ga, err)
	}
	_, err = s.client.GetLayerVersionByArn(ctx, &awslambda.GetLayerVersionByArnInput{Arn: aws.String(layerPrefix + "dep")})
	apiErr(t, err, "ValidationException", "")
	_, err = s.client.GetLayerVersionByArn(ctx, &awslambda.GetLayerVersionByArnInput{Arn: aws.String(layerPrefix + "dep:9")})
	apiErr(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
	_, err = s.client.GetLayerVersion(ctx, &awslambda.GetLayerVersionInput{LayerName: aws.String("nope"), VersionNumber: aws.Int64(1)})
	apiErr(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
	_, err = s.client.GetLayerVersion(ctx, &awslambda.GetLayerVersionInput{LayerName: aws.String("dep"), VersionNumber: aws.Int64(0)})
	apiErr(t, err, "InvalidParameterValueException", "Layer Version Cannot be less than 1")

	// Lists with filters.
	lv, err := s.client.ListLayerVersions(ctx, &awslambda.ListLayerVersionsInput{LayerName: aws.String("dep")})
	if err != nil || len(lv.LayerVersions) != 2 || lv.LayerVersions[0].Version != 2 {
		t.Fatalf("ListLayerVersions = %+v, %v", lv, err)
	}
	lv, _ = s.client.ListLayerVersions(ctx, &awslambda.ListLayerVersionsInput{LayerName: aws.String("dep"), CompatibleRuntime: types.RuntimePython312})
	if len(lv.LayerVersions) != 1 || lv.LayerVersions[0].Version != 1 {
		t.Fatalf("ListLayerVersions(python3.12) = %+v", lv.LayerVersions)
	}
	lv, _ = s.client.ListLayerVersions(ctx, &awslambda.ListLayerVersionsInput{LayerName: aws.String("unknown")})
	if lv == nil || len(lv.LayerVersions) != 0 {
		t.Fatalf("ListLayerVersions(unknown) = %+v", lv)
	}
	_, err = s.client.ListLayers(ctx, &awslambda.ListLayersInput{CompatibleArchitecture: "archdoesnotexist"})
	apiErr(t, err, "ValidationException", "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")
	_, err = s.client.ListLayers(ctx, &awslambda.ListLayersInput{CompatibleRuntime: "runtimedoesnotexist"})
	apiErr(t, err, "ValidationException", "")
	ll, err := s.client.ListLayers(ctx, &awslambda.ListLayersInput{})
	if err != nil || len(ll.Layers) != 2 || aws.ToString(ll.Layers[1].LayerName) != "dep" || ll.Layers[1].LatestMatchingVersion.Version != 2 {
		t.Fatalf("ListLayers = %+v, %v", ll, err)
	}
	ll, _ = s.client.ListLayers(ctx, &awslambda.ListLayersInput{CompatibleRuntime: types.RuntimePython312})
	if len(ll.Layers) != 1 || ll.Layers[0].LatestMatchingVersion.Version != 1 {
		t.Fatalf("ListLayers(python3.12) = %+v", ll.Layers)
	}

	// Functions reference layers: validation, echo, invoke target.
	in := createInput("withlayers", "python3.12", handlerZip(t))
	for _, c := range []struct {
		layers []string
		code   string
		msg    string
	}{
		{[]string{layerPrefix + "dep:1", layerPrefix + "dep:2"}, "InvalidParameterValueException", "Two different versions of the same layer are not allowed to be referenced in the same function. " + layerPrefix + "dep:1 and " + layerPrefix + "dep:2 are versions of the same layer."},
		{[]string{layerPrefix + "doesnotexist:1"}, "InvalidParameterValueException", "Layer version " + layerPrefix + "doesnotexist:1 does not exist."},
		{[]string{layerPrefix + "dep:9"}, "InvalidParameterValueException", "Layer version " + layerPrefix + "dep:9 does not exist."},
		{[]string{"arn:aws:lambda:eu-west-1:000000000000:layer:dep:1"}, "InvalidParameterValueException", "Layers are not in the same region as the function. Layers are expected to be in region us-east-1."},
		{[]string{layerPrefix + "a:1", layerPrefix + "b:1", layerPrefix + "c:1", layerPrefix + "d:1", layerPrefix + "e:1", layerPrefix + "f:1"}, "InvalidParameterValueException", "Cannot reference more than 5 layers."},
		{[]string{layerPrefix + "dep"}, "ValidationException", "1 validation error detected: Value '[" + layerPrefix + "dep]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+), Member must not be null]"},
	} {
		in.Layers = c.layers
		_, err := s.client.CreateFunction(ctx, in)
		apiErr(t, err, c.code, c.msg)
	}
	in.Layers = []string{layerPrefix + "bare:1", layerPrefix + "dep:1"}
	created, err := s.client.CreateFunction(ctx, in)
	if err != nil {
		t.Fatalf("CreateFunction(layers): %v", err)
	}
	if len(created.Layers) != 2 || aws.ToString(created.Layers[1].Arn) != layerPrefix+"dep:1" || created.Layers[1].CodeSize != int64(len(zipb)) {
		t.Fatalf("Layers = %+v", created.Layers)
	}
	waitActive(t, s, "withlayers")
	tgt, err := s.ctl.ResolveInvokeTarget(ctx, "withlayers", "")
	if err != nil || len(tgt.Primary.Layers) != 2 || tgt.Primary.Layers[1].CodeSha256 != lambdaSha(zipb) {
		t.Fatalf("InvokeTarget layers = %+v, %v", tgt, err)
	}
	if _, err := s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("withlayers"), Layers: []string{layerPrefix + "dep:2"}}); err != nil {
		t.Fatalf("UpdateFunctionConfiguration(layers): %v", err)
	}
	waitUpdated(t, s, "withlayers")

	// Delete: idempotent; functions keep their layers; numbers not reused.
	for _, n := range []int64{1, 1, 2} {
		if _, err := s.client.DeleteLayerVersion(ctx, &awslambda.DeleteLayerVersionInput{LayerName: aws.String("dep"), VersionNumber: aws.Int64(n)}); err != nil {
			t.Fatalf("DeleteLayerVersion(%d): %v", n, err)
		}
	}
	gc, _ := s.client.GetFunctionConfiguration(ctx, &awslambda.GetFunctionConfigurationInput{FunctionName: aws.String("withlayers")})
	if len(gc.Layers) != 1 || aws.ToString(gc.Layers[0].Arn) != layerPrefix+"dep:2" {
		t.Fatalf("layers after delete = %+v", gc.Layers)
	}
	if n, err := s.ctl.CollectCode(ctx); err != nil || n != 0 {
		t.Fatalf("CollectCode = %d, %v", n, err)
	}
	if l3 := publishLayer(t, s, "dep", zipb); l3.Version != 3 {
		t.Fatalf("publish after deleting all = %d, want 3", l3.Version)
	}
}

func TestE2ELayerPolicy(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	publishLayer(t, s, "pl", makeZip(t, zfile{name: "a", body: "a"}))
	add := func(sid, action, rev string) (*awslambda.AddLayerVersionPermissionOutput, error) {
		return s.client.AddLayerVersionPermission(ctx, &awslambda.AddLayerVersionPermissionInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1),
			StatementId: aws.String(sid), Action: aws.String(action), Principal: aws.String("*"), RevisionId: optional(rev)})
	}
	_, err := s.client.GetLayerVersionPolicy(ctx, &awslambda.GetLayerVersionPolicyInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1)})
	apiErr(t, err, "ResourceNotFoundException", "No policy is associated with the given resource.")
	a1, err := add("s1", "lambda:GetLayerVersion", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Sid":"s1","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"` + layerPrefix + `pl:1"}`; aws.ToString(a1.Statement) != want {
		t.Fatalf("Statement = %s\nwant %s", aws.ToString(a1.Statement), want)
	}
	_, err = add("bad", "*", "")
	apiErr(t, err, "ValidationException", "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion")
	_, err = add("s1", "lambda:GetLayerVersion", "")
	apiErr(t, err, "ResourceConflictException", "The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing statement.")
	_, err = add("s2", "lambda:GetLayerVersion", "wrong")
	apiErr(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id")
	if _, err := add("s2", "lambda:GetLayerVersion", aws.ToString(a1.RevisionId)); err != nil {
		t.Fatal(err)
	}
	_, err = s.client.AddLayerVersionPermission(ctx, &awslambda.AddLayerVersionPermissionInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(2),
		StatementId: aws.String("x"), Action: aws.String("lambda:GetLayerVersion"), Principal: aws.String("*")})
	apiErr(t, err, "ResourceNotFoundException", "Layer version "+layerPrefix+"pl:2 does not exist.")
	p, err := s.client.GetLayerVersionPolicy(ctx, &awslambda.GetLayerVersionPolicyInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1)})
	if err != nil || !strings.HasPrefix(aws.ToString(p.Policy), `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s1"`) || !strings.Contains(aws.ToString(p.Policy), `"Sid":"s2"`) {
		t.Fatalf("GetLayerVersionPolicy = %+v, %v", p, err)
	}
	_, err = s.client.RemoveLayerVersionPermission(ctx, &awslambda.RemoveLayerVersionPermissionInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1), StatementId: aws.String("doesnotexist")})
	apiErr(t, err, "ResourceNotFoundException", "Statement doesnotexist is not found in resource policy.")
	_, err = s.client.RemoveLayerVersionPermission(ctx, &awslambda.RemoveLayerVersionPermissionInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1), StatementId: aws.String("s2"), RevisionId: aws.String("wrong")})
	apiErr(t, err, "PreconditionFailedException", "")
	if _, err := s.client.RemoveLayerVersionPermission(ctx, &awslambda.RemoveLayerVersionPermissionInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1), StatementId: aws.String("s2")}); err != nil {
		t.Fatal(err)
	}
	p, _ = s.client.GetLayerVersionPolicy(ctx, &awslambda.GetLayerVersionPolicyInput{LayerName: aws.String("pl"), VersionNumber: aws.Int64(1)})
	if strings.Contains(aws.ToString(p.Policy), `"s2"`) {
		t.Fatalf("s2 still in policy: %s", aws.ToString(p.Policy))
	}
}

// zerosZip is a small archive (deflated zeros) that unzips to size bytes.
func zerosZip(t *testing.T, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "zeros.bin", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestE2ELayersUnzippedLimit(t *testing.T) {
	s := startServer(t, t.TempDir(), nil)
	ctx := t.Context()
	const mb = 1 << 20
	publishLayer(t, s, "big", zerosZip(t, 150*mb))
	in := createInput("toobig", "python3.12", zerosZip(t, 150*mb))
	in.Layers = []string{layerPrefix + "big:1"}
	_, err := s.client.CreateFunction(ctx, in)
	apiErr(t, err, "InvalidParameterValueException", "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is 314572800 bytes.")

	in.Layers = nil
	if _, err := s.client.CreateFunction(ctx, in); err != nil {
		t.Fatal(err)
	}
	waitActive(t, s, "toobig")
	_, err = s.client.UpdateFunctionConfiguration(ctx, &awslambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("toobig"), Layers: []string{layerPrefix + "big:1"}})
	apiErr(t, err, "InvalidParameterValueException", "Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is 314572800 bytes.")
}
